package dev.diffuse.models.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.diffuse.runtime.MemoryBudget;

/**
 * A folder of PNG images, all of one size, scaled to [-1, 1]. Layouts:
 * <ul>
 *   <li>{@code DIR/*.png}: unlabelled;</li>
 *   <li>{@code DIR/CLASS/*.png}: labelled, classes are the immediate subfolders that hold PNGs, sorted by name
 *       (label k = k-th name), like torchvision's ImageFolder.</li>
 * </ul>
 * Files are taken in name order. Channels: 1 if every image is grayscale, else 3 (gray images are replicated to
 * RGB); alpha is dropped. Images are held as bytes. Headers are read first, so the data set's size is checked against
 * the heap before anything is decoded; each file is then decoded alone ({@link PngImage}), and a corrupt one is named.
 */
public final class PngFolder {
    private PngFolder() {}

    public static Dataset load(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new java.io.FileNotFoundException("png dataset: " + dir + " is not a folder");
        List<Path> top = pngs(dir);
        List<Path> classDirs = new ArrayList<>();
        try (var s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) if (Files.isDirectory(p) && !pngs(p).isEmpty()) classDirs.add(p);
        }
        if (!top.isEmpty() && !classDirs.isEmpty())
            throw new IOException("png dataset " + dir + ": has PNGs both directly inside (" + top.size() + ") and in class subfolders "
                    + classDirs.stream().map(p -> p.getFileName().toString()).toList() + "; use one layout: DIR/*.png (unlabelled) or DIR/CLASS/*.png");
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        List<String> classNames = new ArrayList<>();
        if (classDirs.isEmpty()) {
            files.addAll(top);
        } else {
            if (classDirs.size() > 256) throw new IOException("png dataset " + dir + ": " + classDirs.size() + " classes; at most 256 are supported");
            for (int k = 0; k < classDirs.size(); k++) {
                classNames.add(classDirs.get(k).getFileName().toString());
                for (Path p : pngs(classDirs.get(k))) {
                    files.add(p);
                    labels.add(k);
                }
            }
        }
        if (files.isEmpty()) throw new IOException("png dataset " + dir + ": no .png files in it or in its immediate subfolders");

        // pass 1: headers only (size, gray or colour), so the whole data set is sized and checked before decoding
        int h = -1, w = -1, c = 1;
        for (Path f : files) {
            PngImage.Header hd = PngImage.readHeader(f);
            if (h < 0) {
                h = hd.height();
                w = hd.width();
            } else if (hd.height() != h || hd.width() != w) {
                throw new IOException("png dataset: " + f + " is " + hd.width() + "x" + hd.height() + " but " + files.get(0) + " is "
                        + w + "x" + h + "; all images must have the same size (resize them first)");
            }
            if (!hd.gray()) c = 3;
        }
        int per = c * h * w;
        MemoryBudget.requireHostArray(String.format(java.util.Locale.ROOT, "png dataset %s (%,d images of %dx%dx%d)", dir, files.size(), c, h, w),
                (long) files.size() * per, 1, "use fewer or smaller images");
        // pass 2: decode one image at a time into the byte array
        byte[] px = new byte[files.size() * per];
        for (int i = 0; i < files.size(); i++) {
            BufferedImage im = PngImage.decode(files.get(i), PngImage.readFile(files.get(i)));
            if (im.getWidth() != w || im.getHeight() != h)
                throw new IOException("png dataset: " + files.get(i) + " decodes to " + im.getWidth() + "x" + im.getHeight() + ", not " + w + "x" + h);
            copyPixels(im, px, i * per, c, h, w);
        }
        byte[] lb = null;
        if (!classNames.isEmpty()) {
            lb = new byte[labels.size()];
            for (int i = 0; i < lb.length; i++) lb[i] = (byte) (int) labels.get(i);
        }
        String desc = "png:" + dir + " (" + files.size() + " x " + c + "x" + h + "x" + w
                + (classNames.isEmpty() ? "" : ", " + classNames.size() + " classes") + ")";
        return new ByteImages(desc, px, lb, files.size(), c, h, w, classNames);
    }

    /**
     * One PNG file's bytes checked (signature, IHDR, every chunk inside the file, at most 8192x8192 pixels) and decoded;
     * any problem is an IOException naming {@code name} ({@link PngImage}).
     */
    public static BufferedImage decode(Path name, byte[] bytes) throws IOException { return PngImage.decode(name, bytes); }

    /** Writes {@code im} as (c, h, w) bytes at {@code at}: gray images replicated to c channels, colour as RGB. */
    private static void copyPixels(BufferedImage im, byte[] px, int at, int c, int h, int w) {
        boolean gray = im.getColorModel().getNumColorComponents() == 1;
        int bits = im.getColorModel().getComponentSize(0);
        var raster = im.getRaster();
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                if (gray) {
                    // sample 0 of a gray raster is the luminance in its own bit depth; scale 16-bit to 8.
                    int v = raster.getSample(x, y, 0);
                    if (bits > 8) v >>= bits - 8;
                    for (int ch = 0; ch < c; ch++) px[at + ch * h * w + y * w + x] = (byte) v;
                } else {
                    int rgb = im.getRGB(x, y);
                    px[at + y * w + x] = (byte) (rgb >> 16);
                    px[at + h * w + y * w + x] = (byte) (rgb >> 8);
                    px[at + 2 * h * w + y * w + x] = (byte) rgb;
                }
            }
    }

    private static List<Path> pngs(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.filter(p -> Files.isRegularFile(p) && p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png"))
                    .sorted().toList();
        }
    }
}
