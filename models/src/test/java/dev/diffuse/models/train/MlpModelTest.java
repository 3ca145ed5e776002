package dev.diffuse.models.train;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;

class MlpModelTest {
    static final MlpModel.Config SMALL = new MlpModel.Config(new int[]{3}, 9, 3, 8, 4);
    static final int B = 3;
    static final float[] X = Close.randn(1, B * 3), R = Close.randn(2, B * 3);
    static final float[] T = {0, 417, 999}, Y = {2, 0, 2};

    /** sum_i out_i * r_i in double: dL/dout = r. */
    static double loss(MlpModel m, float[] x) {
        Device d = m.device();
        try (Tensor xt = Tensor.of(d, x, B, 3); Tensor out = Tensor.allocate(d, B, 3); Tensor t = Tensor.of(d, T, B);
             Tensor y = Tensor.of(d, Y, B)) {
            m.forward(out, xt, t, y);
            float[] o = out.toArray();
            double s = 0;
            for (int i = 0; i < o.length; i++) s += (double) o[i] * R[i];
            return s;
        }
    }

    /** Gradients of {@link #loss}: {params grad slab, dx}. */
    static float[][] grads(MlpModel m) {
        Device d = m.device();
        try (Tensor xt = Tensor.of(d, X, B, 3); Tensor out = Tensor.allocate(d, B, 3); Tensor t = Tensor.of(d, T, B);
             Tensor y = Tensor.of(d, Y, B); Tensor dOut = Tensor.of(d, R, B, 3); Tensor dx = Tensor.allocate(d, B, 3)) {
            m.zeroGradients();
            m.forward(out, xt, t, y);
            m.backward(dOut, dx);
            return new float[][]{m.gradients().toArray(), dx.toArray(), out.toArray()};
        }
    }

    @Test
    void finiteDifferences() {
        try (MlpModel m = new MlpModel(TestDevices.java(), SMALL, 4, 7)) {
            float[][] g = grads(m);
            float[] p = m.parameters().toArray();
            float h = 1e-2f;
            // sample coordinates of every named parameter (first, middle, last)
            int checked = 0;
            for (var e : m.namedParameters().entrySet()) {
                int off = (int) (e.getValue().offset() - m.parameters().offset()), n = (int) e.getValue().numel();
                for (int j : new int[]{0, n / 2, n - 1}) {
                    int i = off + j;
                    float keep = p[i];
                    p[i] = keep + h;
                    m.parameters().upload(p);
                    double lp = loss(m, X);
                    p[i] = keep - h;
                    m.parameters().upload(p);
                    double lm = loss(m, X);
                    p[i] = keep;
                    m.parameters().upload(p);
                    double fd = (lp - lm) / (2 * h);
                    assertEquals(fd, g[0][i], 2e-3 + 2e-2 * Math.abs(fd), e.getKey() + "[" + j + "]");
                    checked++;
                }
            }
            assertTrue(checked >= 18);
            for (int i = 0; i < X.length; i++) {
                float[] xp = X.clone(), xm = X.clone();
                xp[i] += h;
                xm[i] -= h;
                double fd = (loss(m, xp) - loss(m, xm)) / (2 * h);
                assertEquals(fd, g[1][i], 2e-3 + 2e-2 * Math.abs(fd), "dx[" + i + "]");
            }
            // class 1 and 3 are unused in Y: their embedding rows get no gradient; classes 0 and 2 do
            Tensor cls = m.namedParameters().get("class_embedding.weight");
            int off = (int) (cls.offset() - m.parameters().offset()), hid = SMALL.hidden();
            for (int c = 0; c < 4; c++) {
                double s = 0;
                for (int j = 0; j < hid; j++) s += Math.abs(g[0][off + c * hid + j]);
                if (c == 1 || c == 3) assertEquals(0.0, s, "class " + c);
                else assertTrue(s > 0, "class " + c);
            }
        }
    }

    @Test
    void unconditionalAndImageShaped() {
        var cfg = new MlpModel.Config(new int[]{1, 4, 4}, 16, 2, 16, 0);
        try (MlpModel m = new MlpModel(TestDevices.java(), cfg, 2, 1);
             Tensor x = Tensor.of(TestDevices.java(), Close.randn(3, 32), 2, 1, 4, 4); Tensor out = Tensor.allocate(TestDevices.java(), 2, 1, 4, 4);
             Tensor t = Tensor.of(TestDevices.java(), new float[]{5, 900}, 2)) {
            assertFalse(m.namedParameters().containsKey("class_embedding.weight"));
            m.forward(out, x, t, null);
            m.backward(out, null);
            for (float v : out.toArray()) assertTrue(Float.isFinite(v));
            var e = assertThrows(IllegalArgumentException.class, () -> {
                try (Tensor big = Tensor.allocate(TestDevices.java(), 3, 1, 4, 4); Tensor t3 = Tensor.allocate(TestDevices.java(), 3)) {
                    m.forward(big, big, t3, null);
                }
            });
            assertTrue(e.getMessage().contains("maxBatch"));
        }
    }

    @Test
    void openClMatchesJava() {
        Device cl = TestDevices.openCl();
        try (MlpModel mj = new MlpModel(TestDevices.java(), SMALL, 4, 7); MlpModel mc = new MlpModel(cl, SMALL, 4, 7)) {
            assertArrayEquals(mj.parameters().toArray(), mc.parameters().toArray(), "same init on both devices");
            float[][] gj = grads(mj), gc = grads(mc), gc2 = grads(mc);
            Close.assertClose(gj[2], gc[2], 1e-5, 1e-4, "forward out");
            Close.assertClose(gj[0], gc[0], 1e-5, 1e-4, "parameter gradients");
            Close.assertClose(gj[1], gc[1], 1e-5, 1e-4, "dx");
            assertArrayEquals(gc[0], gc2[0], "OpenCL backward is deterministic");
        }
    }
}
