package dev.diffuse.models.data;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {
    @TempDir
    Path tmp;

    /** Writes an IDX file of unsigned bytes with the given dims (magic 0x0800 | dims). */
    static void writeIdx(Path p, boolean gz, int magic, int[] dims, byte[] data) throws IOException {
        try (OutputStream raw = Files.newOutputStream(p); OutputStream o = gz ? new GZIPOutputStream(raw) : raw;
             DataOutputStream out = new DataOutputStream(o)) {
            out.writeInt(magic);
            for (int d : dims) out.writeInt(d);
            out.write(data);
        }
    }

    /** A tiny Fashion-MNIST-shaped split: n images whose pixel j of image i is (i*31 + j) & 255, label i % 10. */
    static void writeSplit(Path dir, String prefix, int n, boolean gz) throws IOException {
        byte[] px = new byte[n * 784], lb = new byte[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < 784; j++) px[i * 784 + j] = (byte) (i * 31 + j);
            lb[i] = (byte) (i % 10);
        }
        String ext = gz ? ".gz" : "";
        writeIdx(dir.resolve(prefix + "-images-idx3-ubyte" + ext), gz, 0x803, new int[]{n, 28, 28}, px);
        writeIdx(dir.resolve(prefix + "-labels-idx1-ubyte" + ext), gz, 0x801, new int[]{n}, lb);
    }

    @Test
    void fashionMnistGzAndPlain() throws IOException {
        for (boolean gz : new boolean[]{true, false}) {
            Path dir = Files.createDirectories(tmp.resolve(gz ? "gz" : "plain"));
            writeSplit(dir, "train", 12, gz);
            writeSplit(dir, "t10k", 5, gz);
            Dataset train = Datasets.open("fashion-mnist", dir), test = Datasets.open("fashion-mnist:test", dir);
            assertEquals(12, train.size());
            assertEquals(5, test.size());
            assertArrayEquals(new int[]{1, 28, 28}, train.sampleShape());
            assertEquals(10, train.numClasses());
            assertEquals("Ankle boot", train.classNames().get(9));
            float[] batch = new float[2 * 784], labels = new float[2];
            train.fill(new int[]{11, 3}, batch, labels);
            assertArrayEquals(new float[]{1, 3}, labels);
            for (int j = 0; j < 784; j++) {
                assertEquals(((11 * 31 + j) & 255) / 127.5f - 1f, batch[j], 0f);
                assertEquals(((3 * 31 + j) & 255) / 127.5f - 1f, batch[784 + j], 0f);
            }
        }
    }

    @Test
    void pixelRangeEndpoints() throws IOException {
        writeIdx(tmp.resolve("train-images-idx3-ubyte"), false, 0x803, new int[]{2, 28, 28}, filled(2 * 784, 0, 255));
        writeIdx(tmp.resolve("train-labels-idx1-ubyte"), false, 0x801, new int[]{2}, new byte[]{0, 9});
        Dataset d = FashionMnist.load(tmp, FashionMnist.Split.TRAIN);
        float[] b = new float[2 * 784];
        d.fill(new int[]{0, 1}, b, null);
        assertEquals(-1f, b[0]);
        assertEquals(1f, b[784]);
    }

    private static byte[] filled(int n, int first, int second) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (i < n / 2 ? first : second);
        return b;
    }

    @Test
    void fashionMnistErrors() throws IOException {
        IOException missing = assertThrows(IOException.class, () -> Datasets.open("fashion-mnist", tmp.resolve("nowhere")));
        assertTrue(missing.getMessage().contains("apt-get install dataset-fashion-mnist"), missing.getMessage());
        assertTrue(missing.getMessage().contains("--data-dir DIR"), missing.getMessage());

        Path badMagic = Files.createDirectories(tmp.resolve("magic"));
        writeIdx(badMagic.resolve("train-images-idx3-ubyte"), false, 0x801, new int[]{1}, new byte[1]);
        writeIdx(badMagic.resolve("train-labels-idx1-ubyte"), false, 0x801, new int[]{1}, new byte[1]);
        assertTrue(assertThrows(IOException.class, () -> Datasets.open("fashion-mnist", badMagic)).getMessage().contains("magic number"));

        Path trunc = Files.createDirectories(tmp.resolve("trunc"));
        writeIdx(trunc.resolve("train-images-idx3-ubyte.gz"), true, 0x803, new int[]{3, 28, 28}, new byte[2 * 784]);
        writeIdx(trunc.resolve("train-labels-idx1-ubyte.gz"), true, 0x801, new int[]{3}, new byte[3]);
        assertTrue(assertThrows(IOException.class, () -> Datasets.open("fashion-mnist", trunc)).getMessage().contains("truncated"));

        Path count = Files.createDirectories(tmp.resolve("count"));
        writeIdx(count.resolve("train-images-idx3-ubyte"), false, 0x803, new int[]{3, 28, 28}, new byte[3 * 784]);
        writeIdx(count.resolve("train-labels-idx1-ubyte"), false, 0x801, new int[]{2}, new byte[2]);
        assertTrue(assertThrows(IOException.class, () -> Datasets.open("fashion-mnist", count)).getMessage().contains("same split"));

        Path label = Files.createDirectories(tmp.resolve("label"));
        writeIdx(label.resolve("train-images-idx3-ubyte"), false, 0x803, new int[]{1, 28, 28}, new byte[784]);
        writeIdx(label.resolve("train-labels-idx1-ubyte"), false, 0x801, new int[]{1}, new byte[]{12});
        assertTrue(assertThrows(IOException.class, () -> Datasets.open("fashion-mnist", label)).getMessage().contains("label 12"));

        Path size = Files.createDirectories(tmp.resolve("size"));
        writeIdx(size.resolve("train-images-idx3-ubyte"), false, 0x803, new int[]{1, 32, 32}, new byte[1024]);
        writeIdx(size.resolve("train-labels-idx1-ubyte"), false, 0x801, new int[]{1}, new byte[1]);
        assertTrue(assertThrows(IOException.class, () -> Datasets.open("fashion-mnist", size)).getMessage().contains("28x28"));
    }

    @Test
    void realFashionMnistIfInstalled() throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIR), "no " + FashionMnist.DEFAULT_DIR);
        Dataset train = Datasets.open("fashion-mnist", null), test = Datasets.open("fashion-mnist:test", null);
        assertEquals(60000, train.size());
        assertEquals(10000, test.size());
        float[] b = new float[784], l = new float[1];
        train.fill(new int[]{0}, b, l);
        assertEquals(9f, l[0]); // the first training image is an ankle boot
        float min = 1, max = -1;
        for (float v : b) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        assertEquals(-1f, min);
        assertTrue(max > 0.5f && max <= 1f);
    }

    static void writePng(Path p, int w, int h, boolean rgb, int seed) throws IOException {
        BufferedImage im = new BufferedImage(w, h, rgb ? BufferedImage.TYPE_INT_RGB : BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int v = (seed * 40 + x * 7 + y * 3) & 255;
                if (rgb) im.setRGB(x, y, (v << 16) | (((v + 1) & 255) << 8) | ((v + 2) & 255));
                else im.getRaster().setSample(x, y, 0, v);
            }
        Files.createDirectories(p.getParent());
        ImageIO.write(im, "png", p.toFile());
    }

    @Test
    void pngFolderUnlabelledGray() throws IOException {
        Path dir = tmp.resolve("gray");
        writePng(dir.resolve("b.png"), 5, 4, false, 2);
        writePng(dir.resolve("a.png"), 5, 4, false, 1);
        Dataset d = Datasets.open("png:" + dir, null);
        assertEquals(2, d.size());
        assertEquals(0, d.numClasses());
        assertArrayEquals(new int[]{1, 4, 5}, d.sampleShape());
        float[] b = new float[20];
        d.fill(new int[]{0}, b, null); // a.png first (name order)
        assertEquals((1 * 40 + 2 * 7 + 3 * 3) / 127.5f - 1f, b[3 * 5 + 2], 0f);
    }

    @Test
    void pngFolderLabelledRgb() throws IOException {
        Path dir = tmp.resolve("rgb");
        writePng(dir.resolve("zebra/0.png"), 3, 3, true, 0);
        writePng(dir.resolve("cat/0.png"), 3, 3, false, 1);
        writePng(dir.resolve("cat/1.png"), 3, 3, true, 2);
        Dataset d = Datasets.open("png:" + dir, null);
        assertEquals(3, d.size());
        assertEquals(List.of("cat", "zebra"), d.classNames());
        assertArrayEquals(new int[]{3, 3, 3}, d.sampleShape());
        float[] b = new float[3 * 27], l = new float[3];
        d.fill(new int[]{0, 1, 2}, b, l);
        assertArrayEquals(new float[]{0, 0, 1}, l);
        assertEquals(b[0], b[9], 0f); // gray image replicated to R and G
        int v = (2 * 40) & 255; // cat/1.png pixel (0,0): R = v, G = v+1, B = v+2
        assertEquals(v / 127.5f - 1f, b[27], 0f);
        assertEquals((v + 2) / 127.5f - 1f, b[27 + 18], 0f);
    }

    @Test
    void pngFolderErrors() throws IOException {
        Path dir = tmp.resolve("mixed");
        writePng(dir.resolve("a.png"), 4, 4, false, 0);
        writePng(dir.resolve("b.png"), 5, 4, false, 0);
        assertTrue(assertThrows(IOException.class, () -> Datasets.open("png:" + dir, null)).getMessage().contains("same size"));
        Files.createDirectories(tmp.resolve("empty"));
        assertTrue(assertThrows(IOException.class, () -> Datasets.open("png:" + tmp.resolve("empty"), null)).getMessage().contains("no .png"));
        assertThrows(IOException.class, () -> Datasets.open("png:" + tmp.resolve("absent"), null));
    }

    @Test
    void syntheticPresets() throws IOException {
        Dataset ring = Datasets.open("ring8:1000", null);
        assertEquals(1000, ring.size());
        assertEquals(8, ring.numClasses());
        assertArrayEquals(new int[]{2}, ring.sampleShape());
        float[] b = new float[2 * 1000], l = new float[1000];
        int[] all = java.util.stream.IntStream.range(0, 1000).toArray();
        ring.fill(all, b, l);
        for (int i = 0; i < 1000; i++) { // each point lies near its labelled mode
            double a = 2 * Math.PI * l[i] / 8;
            double dx = b[2 * i] - 4 * Math.cos(a), dy = b[2 * i + 1] - 4 * Math.sin(a);
            assertTrue(Math.hypot(dx, dy) < 0.3 * 6, "point " + i);
        }
        assertEquals(Synthetic2d.DEFAULT_SIZE, Datasets.open("aniso2d", null).size());
        assertEquals(4, Datasets.open("aniso2d", null).numClasses());
    }

    @Test
    void specErrors() {
        var e = assertThrows(IllegalArgumentException.class, () -> Datasets.open("mnist", null));
        assertTrue(e.getMessage().contains("ring8") && e.getMessage().contains("fashion-mnist"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Datasets.open("fashion-mnist:val", null));
        assertThrows(IllegalArgumentException.class, () -> Datasets.open("ring8:many", null));
        assertThrows(IllegalArgumentException.class, () -> Datasets.open("png:", null));
        assertThrows(IndexOutOfBoundsException.class, () -> Datasets.open("ring8:10", null).fill(new int[]{10}, new float[2], null));
    }
}
