package dev.diffuse.models.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

import javax.imageio.ImageIO;

/**
 * Writes a batch of images (n, C, H, W) in [-1, 1] as one PNG grid: value v becomes
 * {@code round((clamp(v, -1, 1) + 1) * 127.5)} in 0..255 (NaN -> 0), C = 1 gray, C = 3 RGB. Tiles are separated by
 * a {@link #PAD}-pixel black border and may be upscaled by an integer factor (nearest neighbour) so 28x28 samples
 * stay visible. The file is written to a temp file in the same folder and renamed, so a viewer never sees half a
 * PNG.
 */
public final class ImageGrid {
    public static final int PAD = 2;

    private ImageGrid() {}

    /** The default upscale: 2 for images up to 32 pixels high, 1 above. */
    public static int defaultScale(int h) { return h <= 32 ? 2 : 1; }

    /** {@link #write(Path, float[], int, int, int, int, int, int)} with {@link #defaultScale}. */
    public static void write(Path png, float[] images, int n, int c, int h, int w, int cols) throws IOException {
        write(png, images, n, c, h, w, cols, defaultScale(h));
    }

    /** Writes the grid with {@code cols} columns (rows as needed) and each pixel drawn as {@code scale x scale}. */
    public static void write(Path png, float[] images, int n, int c, int h, int w, int cols, int scale) throws IOException {
        BufferedImage img = render(images, n, c, h, w, cols, scale);
        dev.diffuse.models.io.AtomicFiles.write(png, tmp -> {
            if (!ImageIO.write(img, "png", tmp.toFile())) throw new IOException("no PNG writer available");
        });
    }

    /** The grid as an image (TYPE_BYTE_GRAY for C = 1, TYPE_INT_RGB for C = 3). */
    public static BufferedImage render(float[] images, int n, int c, int h, int w, int cols, int scale) {
        if (c != 1 && c != 3) throw new IllegalArgumentException("image grid: need 1 (gray) or 3 (RGB) channels, got " + c);
        if (n < 1 || h < 1 || w < 1 || cols < 1 || scale < 1)
            throw new IllegalArgumentException("image grid: need n, h, w, cols, scale >= 1, got n=" + n + " h=" + h + " w=" + w
                    + " cols=" + cols + " scale=" + scale);
        if ((long) n * c * h * w > images.length)
            throw new IllegalArgumentException("image grid: " + n + " images of " + c + "x" + h + "x" + w + " need "
                    + (long) n * c * h * w + " floats, got " + images.length);
        int cl = Math.min(cols, n), rows = (n + cl - 1) / cl;
        int th = h * scale, tw = w * scale;
        int gw = cl * tw + (cl + 1) * PAD, gh = rows * th + (rows + 1) * PAD;
        BufferedImage img = new BufferedImage(gw, gh, c == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
        var raster = img.getRaster();
        int plane = h * w;
        for (int i = 0; i < n; i++) {
            int x0 = PAD + (i % cl) * (tw + PAD), y0 = PAD + (i / cl) * (th + PAD);
            for (int y = 0; y < th; y++)
                for (int x = 0; x < tw; x++) {
                    int src = i * c * plane + (y / scale) * w + x / scale;
                    if (c == 1) {
                        raster.setSample(x0 + x, y0 + y, 0, toByte(images[src]));
                    } else {
                        int r = toByte(images[src]), g = toByte(images[src + plane]), b = toByte(images[src + 2 * plane]);
                        img.setRGB(x0 + x, y0 + y, (r << 16) | (g << 8) | b);
                    }
                }
        }
        return img;
    }

    /** [-1, 1] to 0..255, clamped, NaN to 0. */
    public static int toByte(float v) {
        if (Float.isNaN(v)) return 0;
        float u = (Math.max(-1f, Math.min(1f, v)) + 1f) * 127.5f;
        return Math.round(u);
    }
}
