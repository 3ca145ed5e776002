package dev.diffuse.pipeline;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;

/** Request validation (one line naming the field and the range) and the image encoders. */
class SampleRequestTest {
    private static String refused(SampleRequest.Builder b) {
        return assertThrows(IllegalArgumentException.class, b::build).getMessage();
    }

    @Test
    void outOfRangeFieldsAreNamedWithTheirRange() {
        assertEquals("n must be in 1..100000000, got 0", refused(SampleRequest.builder().n(0)));
        assertEquals("steps must be in 1..1000, got 1001", refused(SampleRequest.builder().steps(1001)));
        assertEquals("eta must be in [0, 1], got 1.5", refused(SampleRequest.builder().eta(1.5)));
        assertEquals("classLabel must be a class id >= 0, got -1", refused(SampleRequest.builder().classLabel(-1)));
        assertEquals("guidance must be a scale in [1, 50] (1 = no guidance, as diffusers' guidance_scale), got 0.5",
                refused(SampleRequest.builder().guidance(0.5)));
        assertTrue(refused(SampleRequest.builder().guidance(Double.NaN)).startsWith("guidance must be"));
        assertTrue(refused(SampleRequest.builder().sampler("euler-a")).startsWith("sampler must be one of [ddpm"));
        SampleRequest r = SampleRequest.builder().n(3).sampler("ddim").steps(10).seed(4).eta(0.2).clip(false).build();
        assertEquals(r, r.toBuilder().build());
        assertEquals(new SampleRequest(7, null, null, null, null, null, null, null), SampleRequest.of(7));
    }

    @Test
    void pngEncodersDrawValuesInMinusOneToOneAsBytes() throws Exception {
        float[] data = new float[2 * 3 * 4 * 5];
        for (int i = 0; i < data.length; i++) data[i] = -1.2f + 2.4f * i / data.length;
        data[7] = Float.NaN;
        Images im = new Images(data, 2, new int[]{3, 4, 5});
        assertEquals(1, im.nonFiniteCount());
        BufferedImage one = ImageIO.read(new ByteArrayInputStream(im.png(1)));
        assertEquals(5, one.getWidth());
        assertEquals(4, one.getHeight());
        int rgb = one.getRGB(2, 1), base = 60 + 1 * 5 + 2;
        assertEquals(dev.diffuse.models.data.ImageGrid.toByte(data[base]), (rgb >> 16) & 255);
        assertEquals(dev.diffuse.models.data.ImageGrid.toByte(data[base + 20]), (rgb >> 8) & 255);
        assertEquals(dev.diffuse.models.data.ImageGrid.toByte(data[base + 40]), rgb & 255);
        BufferedImage grid = ImageIO.read(new ByteArrayInputStream(im.gridPng()));
        int pad = dev.diffuse.models.data.ImageGrid.PAD;
        assertEquals(2 * 5 * 2 + 3 * pad, grid.getWidth(), "2 columns of 5 pixels upscaled 2x, with borders");
        assertEquals(8, Images.gridColumns(64));
        assertThrows(IndexOutOfBoundsException.class, () -> im.png(2));
        var vector = assertThrows(IllegalStateException.class, () -> new Images(new float[4], 2, new int[]{2}).gridPng());
        assertTrue(vector.getMessage().contains("not images"), vector.getMessage());
    }
}
