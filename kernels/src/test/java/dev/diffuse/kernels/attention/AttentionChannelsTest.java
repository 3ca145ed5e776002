package dev.diffuse.kernels.attention;

import static dev.diffuse.runtime.Close.assertClose;
import static dev.diffuse.runtime.Close.randn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;

/**
 * {@link Attention#forwardChannels} / {@link Attention#backwardChannels} (attention on channel-first tensors, the
 * transposes fused away): on the Java device bit-identical to transposes around the token-major op (whose accuracy and
 * gradients {@link AttentionTest} checks), and OpenCL against Java on odd shapes.
 */
class AttentionChannelsTest {
    /** o, lse, dq, dk, dv of channel-first tensors (B, heads * D, H, W), by the fused op or by transposes around the token-major one. */
    static float[][] run(Device dev, int b, int heads, int hh, int ww, int d, boolean fused) {
        int c = heads * d, n = hh * ww, len = b * c * n;
        float scale = (float) (1 / Math.sqrt(d));
        float[] q = AttentionTest.input(1, len, 1.5f), k = AttentionTest.input(2, len, 1.5f), v = randn(3, len), dO = randn(4, len);
        try (Tensor tq = Tensor.of(dev, q, b, c, hh, ww); Tensor tk = Tensor.of(dev, k, b, c, hh, ww);
             Tensor tv = Tensor.of(dev, v, b, c, hh, ww); Tensor tdo = Tensor.of(dev, dO, b, c, hh, ww);
             Tensor o = Tensor.allocate(dev, b, c, hh, ww); Tensor lse = Tensor.allocate(dev, b, heads, n);
             Tensor dq = Tensor.allocate(dev, b, c, hh, ww); Tensor dk = Tensor.allocate(dev, b, c, hh, ww);
             Tensor dv = Tensor.allocate(dev, b, c, hh, ww); Tensor delta = Tensor.allocate(dev, b, heads, n)) {
            if (fused) {
                Attention.forwardChannels(o, lse, tq, tk, tv, heads, scale);
                Attention.backwardChannels(dq, dk, dv, tdo, tq, tk, tv, o, lse, delta, heads, scale);
            } else {
                int[] s = {b, heads, n, d};
                try (Tensor qh = Tensor.allocate(dev, s); Tensor kh = Tensor.allocate(dev, s); Tensor vh = Tensor.allocate(dev, s);
                     Tensor oh = Tensor.allocate(dev, s); Tensor doh = Tensor.allocate(dev, s); Tensor dqh = Tensor.allocate(dev, s);
                     Tensor dkh = Tensor.allocate(dev, s); Tensor dvh = Tensor.allocate(dev, s)) {
                    Attention.channelsToHeads(qh, tq, heads);
                    Attention.channelsToHeads(kh, tk, heads);
                    Attention.channelsToHeads(vh, tv, heads);
                    Attention.channelsToHeads(doh, tdo, heads);
                    Attention.forward(oh, lse, qh, kh, vh, scale);
                    Attention.headsToChannels(o, oh, heads);
                    Attention.backward(dqh, dkh, dvh, doh, qh, kh, vh, oh, lse, delta, scale);
                    Attention.headsToChannels(dq, dqh, heads);
                    Attention.headsToChannels(dk, dkh, heads);
                    Attention.headsToChannels(dv, dvh, heads);
                }
            }
            return new float[][]{o.toArray(), lse.toArray(), dq.toArray(), dk.toArray(), dv.toArray()};
        }
    }

    @ParameterizedTest(name = "B={0} heads={1} {2}x{3} D={4}")
    @CsvSource({"1,2,14,14,32", "2,4,7,7,32", "3,1,5,9,17", "1,3,7,11,64", "1,1,17,17,8"})
    void javaIsBitIdenticalToTransposesAroundTheTokenMajorOp(int b, int heads, int hh, int ww, int d) {
        JavaDevice j = TestDevices.java();
        float[][] fused = run(j, b, heads, hh, ww, d, true), composed = run(j, b, heads, hh, ww, d, false);
        String[] names = {"o", "lse", "dq", "dk", "dv"};
        for (int i = 0; i < names.length; i++) assertArrayEquals(composed[i], fused[i], names[i]);
    }

    @ParameterizedTest(name = "B={0} heads={1} {2}x{3} D={4}")
    @CsvSource({"1,2,7,7,3", "3,2,7,7,32", "2,1,14,14,64", "1,2,5,9,33"})
    void openClMatchesJava(int b, int heads, int hh, int ww, int d) {
        float[][] want = run(TestDevices.java(), b, heads, hh, ww, d, true);
        float[][] got = run(TestDevices.openCl(), b, heads, hh, ww, d, true);
        String[] names = {"o", "lse", "dq", "dk", "dv"};
        for (int i = 0; i < names.length; i++) assertClose(want[i], got[i], 1e-5, 1e-4, names[i] + " OpenCL vs Java");
    }

    @Test
    void shapesAreChecked() {
        JavaDevice j = TestDevices.java();
        try (Tensor q = Tensor.allocate(j, 1, 6, 4, 4); Tensor bad = Tensor.allocate(j, 1, 6, 4, 5);
             Tensor lse = Tensor.allocate(j, 1, 2, 16)) {
            var e = assertThrows(IllegalArgumentException.class, () -> Attention.forwardChannels(q, lse, q, bad, q, 2, 1f));
            assertTrue(e.getMessage().contains("forwardChannels"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Attention.forwardChannels(q, lse, q, q, q, 4, 1f));
            assertTrue(e.getMessage().contains("divisible"), e.getMessage());
        }
    }
}
