package dev.diffuse.kernels.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;

class PerSampleStepTest {
    /** Per-sample DDIM coefficients (rows a, b, d, p, q) between random levels of the linear schedule. */
    static float[] ddimCoefficients(int batch, long seed) {
        float[] u = Close.uniform(seed, 2 * batch, 0, 1), c = new float[5 * batch];
        for (int b = 0; b < batch; b++) {
            double at = Math.exp(-9 * u[b]), as = Math.min(0.9999, at + (1 - at) * u[batch + b]);
            c[b] = 0;
            c[batch + b] = (float) Math.sqrt(as);
            c[2 * batch + b] = (float) Math.sqrt(1 - as);
            c[3 * batch + b] = (float) (1 / Math.sqrt(at));
            c[4 * batch + b] = (float) (-Math.sqrt(1 - at) / Math.sqrt(at));
        }
        c[0] = 0.3f; // one sample with an x term too
        return c;
    }

    static double[] reference(float[] x, float[] m, float[] c, int batch, float lo, float hi) {
        int per = x.length / batch;
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            int b = i / per;
            double x0 = Math.min(hi, Math.max(lo, (double) c[3 * batch + b] * x[i] + (double) c[4 * batch + b] * m[i]));
            out[i] = c[b] * (double) x[i] + c[batch + b] * x0 + c[2 * batch + b] * (double) m[i];
        }
        return out;
    }

    @Test
    void matchesTheDefinitionOnBothDevicesAndOpenClMatchesJava() {
        int[][] shapes = {{1, 1}, {3, 7 * 7}, {5, 93}, {4, 28 * 28}};
        long seed = 1;
        for (int[] s : shapes) {
            int batch = s[0], per = s[1], n = batch * per;
            float[] x = Close.randn(seed++, n), m = Close.randn(seed++, n), c = ddimCoefficients(batch, seed++);
            double[] ref = reference(x, m, c, batch, -1f, 1f);
            float[][] res = new float[3][];
            Device[] devs = {TestDevices.java(), TestDevices.openCl(), TestDevices.openCl()};
            for (int k = 0; k < 3; k++) {
                Device d = devs[k];
                try (Tensor xt = Tensor.of(d, x, batch, per); Tensor mt = Tensor.of(d, m, batch, per); Tensor ct = Tensor.of(d, c, 5, batch);
                     Tensor out = Tensor.allocate(d, batch, per)) {
                    PerSampleStep.clipX0(out, xt, mt, ct, -1f, 1f);
                    res[k] = out.toArray();
                    double[] got = new double[n];
                    for (int i = 0; i < n; i++) got[i] = res[k][i];
                    // p up to 90: rounding of p x + q m is amplified before the clamp
                    Close.assertClose(ref, got, 1e-4, 1e-4, "per-sample step on " + d.id() + " " + batch + "x" + per);
                }
            }
            Close.assertClose(res[0], res[1], 1e-5, 1e-5, "OpenCL vs Java " + batch + "x" + per);
            assertArrayEquals(res[1], res[2], "OpenCL twice");
        }
    }

    @Test
    void inPlaceAndErrors() {
        Device d = TestDevices.java();
        float[] x = Close.randn(4, 12), m = Close.randn(5, 12), c = ddimCoefficients(3, 6);
        double[] ref = reference(x, m, c, 3, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY);
        try (Tensor xt = Tensor.of(d, x, 3, 4); Tensor mt = Tensor.of(d, m, 3, 4); Tensor ct = Tensor.of(d, c, 5, 3); Tensor bad = Tensor.allocate(d, 4, 3)) {
            PerSampleStep.clipX0(xt, xt, mt, ct, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY);
            float[] got = xt.toArray();
            for (int i = 0; i < 12; i++) assertTrue(Math.abs(got[i] - ref[i]) <= 1e-4 * (1 + Math.abs(ref[i])), "in place, no clipping");
            String e = assertThrows(IllegalArgumentException.class, () -> PerSampleStep.clipX0(xt, xt, mt, bad, -1, 1)).getMessage();
            assertTrue(e.contains("(5, 3)"), e);
            e = assertThrows(IllegalArgumentException.class, () -> PerSampleStep.clipX0(xt, xt, mt, ct, 1, -1)).getMessage();
            assertTrue(e.contains("empty"), e);
        }
    }
}
