package dev.diffuse.pipeline;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;

import javax.imageio.ImageIO;

import dev.diffuse.models.data.ImageGrid;

/**
 * Samples as float NCHW: {@code count()} samples of {@code sampleShape()} (e.g. {1, 28, 28}), row-major, images in
 * [-1, 1] (the pipeline clamps image models' outputs there; NaN stays NaN so that it can be counted). Encoders turn
 * image samples (1 or 3 channels) into PNG bytes: one image, or a grid ({@link ImageGrid}: 2-pixel borders, small
 * images upscaled 2x).
 * <pre>{@code
 * Images im = pipeline.sample(SampleRequest.of(16)).images();
 * Files.write(Path.of("grid.png"), im.gridPng());
 * }</pre>
 */
public final class Images {
    private final float[] data;
    private final int count;
    private final int[] sampleShape;
    private final int per;

    /**
     * Wraps {@code data} (not copied) holding {@code count} samples of {@code sampleShape}.
     * <pre>{@code
     * Images im = new Images(new float[2 * 784], 2, new int[]{1, 28, 28});
     * }</pre>
     */
    public Images(float[] data, int count, int[] sampleShape) {
        long per = 1;
        for (int s : sampleShape) per *= s;
        if (count < 0 || per < 1 || (long) count * per != data.length)
            throw new IllegalArgumentException("images: " + count + " samples of " + Arrays.toString(sampleShape) + " need "
                    + (long) count * per + " floats, got " + data.length);
        this.data = data;
        this.count = count;
        this.sampleShape = sampleShape.clone();
        this.per = (int) per;
    }

    /**
     * Number of samples.
     * <pre>{@code
     * int n = images.count();
     * }</pre>
     */
    public int count() { return count; }

    /**
     * The shape of one sample, e.g. {1, 28, 28} (C, H, W) or {2} for vector data.
     * <pre>{@code
     * int channels = images.sampleShape()[0];
     * }</pre>
     */
    public int[] sampleShape() { return sampleShape.clone(); }

    /**
     * The shape of the whole batch, (N, C, H, W).
     * <pre>{@code
     * int[] nchw = images.shape();
     * }</pre>
     */
    public int[] shape() {
        int[] s = new int[sampleShape.length + 1];
        s[0] = count;
        System.arraycopy(sampleShape, 0, s, 1, sampleShape.length);
        return s;
    }

    /**
     * The values, all samples back to back (the backing array: not a copy).
     * <pre>{@code
     * float first = images.data()[0];
     * }</pre>
     */
    public float[] data() { return data; }

    /**
     * A copy of sample {@code i}'s values.
     * <pre>{@code
     * float[] img = images.image(0);   // C*H*W values
     * }</pre>
     */
    public float[] image(int i) {
        return Arrays.copyOfRange(data, Math.multiplyExact(checkIndex(i), per), (i + 1) * per);
    }

    /**
     * Whether the samples are images an encoder can draw: shape (C, H, W) with C = 1 (gray) or 3 (RGB).
     * <pre>{@code
     * if (images.isImage()) Files.write(out, images.gridPng());
     * }</pre>
     */
    public boolean isImage() { return sampleShape.length == 3 && (sampleShape[0] == 1 || sampleShape[0] == 3); }

    /**
     * How many samples hold a NaN or an infinity.
     * <pre>{@code
     * if (images.nonFiniteCount() > 0) throw new IllegalStateException("the model diverged");
     * }</pre>
     */
    public int nonFiniteCount() {
        int bad = 0;
        for (int i = 0; i < count; i++)
            for (int j = i * per, e = j + per; j < e; j++)
                if (!Float.isFinite(data[j])) {
                    bad++;
                    break;
                }
        return bad;
    }

    /**
     * Sample {@code i} as PNG bytes, one pixel per value (values clamped to [-1, 1] and mapped to 0..255).
     * <pre>{@code
     * Files.write(Path.of("img0.png"), images.png(0));
     * }</pre>
     */
    public byte[] png(int i) {
        requireImage();
        checkIndex(i);
        int c = sampleShape[0], h = sampleShape[1], w = sampleShape[2], plane = h * w, base = i * per;
        BufferedImage img = new BufferedImage(w, h, c == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int p = base + y * w + x;
                if (c == 1) img.getRaster().setSample(x, y, 0, ImageGrid.toByte(data[p]));
                else img.setRGB(x, y, (ImageGrid.toByte(data[p]) << 16) | (ImageGrid.toByte(data[p + plane]) << 8) | ImageGrid.toByte(data[p + 2 * plane]));
            }
        return encode(img);
    }

    /**
     * All samples as one PNG grid of about square shape ({@link #gridColumns} columns).
     * <pre>{@code
     * Files.write(Path.of("grid.png"), images.gridPng());
     * }</pre>
     */
    public byte[] gridPng() { return gridPng(gridColumns(count)); }

    /**
     * All samples as one PNG grid with {@code cols} columns (rows as needed).
     * <pre>{@code
     * byte[] strip = images.gridPng(images.count());   // one row
     * }</pre>
     */
    public byte[] gridPng(int cols) {
        requireImage();
        if (count == 0) throw new IllegalStateException("images: an empty batch has no grid");
        return encode(ImageGrid.render(data, count, sampleShape[0], sampleShape[1], sampleShape[2], cols, ImageGrid.defaultScale(sampleShape[1])));
    }

    /**
     * Writes {@link #gridPng()} to {@code png} atomically (temporary file, then rename).
     * <pre>{@code
     * images.writeGrid(Path.of("grid.png"));
     * }</pre>
     */
    public void writeGrid(Path png) throws IOException {
        requireImage();
        ImageGrid.write(png, data, count, sampleShape[0], sampleShape[1], sampleShape[2], gridColumns(count));
    }

    /**
     * Writes {@link #png(int)} of sample {@code i} to {@code file} atomically.
     * <pre>{@code
     * images.writePng(Path.of("img0.png"), 0);
     * }</pre>
     */
    public void writePng(Path file, int i) throws IOException {
        byte[] bytes = png(i);
        Path abs = file.toAbsolutePath();
        Path tmp = Files.createFile(abs.resolveSibling("." + abs.getFileName() + "." + Long.toHexString(System.nanoTime()) + ".tmp")); // umask permissions
        try {
            Files.write(tmp, bytes);
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * The columns of an about square grid of {@code n} images: ceil(sqrt(n)).
     * <pre>{@code
     * Images.gridColumns(64);   // 8
     * }</pre>
     */
    public static int gridColumns(int n) { return Math.max(1, (int) Math.ceil(Math.sqrt(n))); }

    private int checkIndex(int i) {
        if (i < 0 || i >= count) throw new IndexOutOfBoundsException("image " + i + " of " + count);
        return i;
    }

    private void requireImage() {
        if (!isImage())
            throw new IllegalStateException("images: samples of shape " + Arrays.toString(sampleShape)
                    + " are not images (need C, H, W with 1 or 3 channels); read data() instead");
    }

    private static byte[] encode(BufferedImage img) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            if (!ImageIO.write(img, "png", out)) throw new IOException("no PNG writer available");
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
