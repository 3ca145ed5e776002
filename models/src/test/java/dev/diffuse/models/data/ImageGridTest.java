package dev.diffuse.models.data;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageGridTest {
    @TempDir
    Path tmp;

    @Test
    void mapping() {
        assertEquals(0, ImageGrid.toByte(-1f));
        assertEquals(0, ImageGrid.toByte(-3f));
        assertEquals(255, ImageGrid.toByte(1f));
        assertEquals(255, ImageGrid.toByte(7f));
        assertEquals(128, ImageGrid.toByte(0f));
        assertEquals(0, ImageGrid.toByte(Float.NaN));
    }

    @Test
    void grayGridLayoutAndScale() throws IOException {
        int n = 5, h = 3, w = 4, cols = 3, scale = 2;
        float[] x = new float[n * h * w];
        for (int i = 0; i < n; i++) for (int j = 0; j < h * w; j++) x[i * h * w + j] = -1f + 2f * (i * h * w + j) / (n * h * w - 1);
        Path png = tmp.resolve("sub/grid.png");
        ImageGrid.write(png, x, n, 1, h, w, cols, scale);
        BufferedImage im = ImageIO.read(png.toFile());
        int pad = ImageGrid.PAD;
        assertEquals(cols * w * scale + (cols + 1) * pad, im.getWidth());
        assertEquals(2 * h * scale + 3 * pad, im.getHeight());
        // image 4 sits in row 1, column 1; its pixel (y=2, x=3) covers a 2x2 block
        int x0 = pad + (w * scale + pad), y0 = pad + (h * scale + pad);
        int want = ImageGrid.toByte(x[4 * h * w + 2 * w + 3]);
        assertEquals(want, im.getRaster().getSample(x0 + 3 * scale + 1, y0 + 2 * scale + 1, 0));
        assertEquals(0, im.getRaster().getSample(0, 0, 0)); // border
        try (var s = Files.list(png.getParent())) {
            assertEquals(1, s.count(), "no temp file left behind");
        }
    }

    @Test
    void rgbGrid() throws IOException {
        float[] x = {1, 1, 1, 1, -1, -1, -1, -1, 0, 0, 0, 0}; // one 2x2 image: R = 1, G = -1, B = 0
        Path png = tmp.resolve("rgb.png");
        ImageGrid.write(png, x, 1, 3, 2, 2, 8);
        BufferedImage im = ImageIO.read(png.toFile());
        int rgb = im.getRGB(ImageGrid.PAD, ImageGrid.PAD);
        assertEquals(255, (rgb >> 16) & 255);
        assertEquals(0, (rgb >> 8) & 255);
        assertEquals(128, rgb & 255);
        assertThrows(IllegalArgumentException.class, () -> ImageGrid.write(png, x, 2, 3, 2, 2, 8));
        assertThrows(IllegalArgumentException.class, () -> ImageGrid.write(png, x, 1, 2, 2, 3, 8));
    }
}
