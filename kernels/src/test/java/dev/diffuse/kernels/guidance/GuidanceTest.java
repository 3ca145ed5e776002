package dev.diffuse.kernels.guidance;

import static dev.diffuse.runtime.Close.assertClose;
import static dev.diffuse.runtime.Close.randn;
import static org.junit.jupiter.api.Assertions.*;

import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;

/** CFG combine and rescale: definition in double, Java vs OpenCL on odd shapes, determinism, the rescaled std. */
class GuidanceTest {
    @ParameterizedTest(name = "B={0} n={1} w={2} phi={3}")
    @CsvSource({"1, 7, 3.0, 0.7", "3, 147, 7.5, 1.0", "3, 784, 1.0, 0.0", "2, 3072, 4.0, 0.5", "1, 1, 2.0, 1.0"})
    void matchesDefinitionOnBothDevices(int batch, int n, double w, double phi) {
        float[] m = randn(11, 2 * batch * n);
        for (int i = batch * n; i < m.length; i++) m[i] = 0.5f * m[i] + 0.3f; // a different unconditional spread
        float[] comb = new float[batch * n], resc = new float[batch * n];
        for (int b = 0; b < batch; b++) {
            double sc = 0, sg = 0, vc = 0, vg = 0;
            double[] g = new double[n];
            for (int j = 0; j < n; j++) {
                double c = m[b * n + j], u = m[(batch + b) * n + j];
                g[j] = (1 + w) * c - w * u;
                comb[b * n + j] = (float) g[j];
                sc += c;
                sg += g[j];
            }
            for (int j = 0; j < n; j++) {
                vc += Math.pow(m[b * n + j] - sc / n, 2);
                vg += Math.pow(g[j] - sg / n, 2);
            }
            double r = vg > 0 ? Math.sqrt(vc / vg) : 1;
            for (int j = 0; j < n; j++) resc[b * n + j] = (float) (phi * r * g[j] + (1 - phi) * g[j]);
        }
        for (Device d : List.of(TestDevices.java(), TestDevices.openCl())) {
            try (Tensor tm = Tensor.of(d, m, 2 * batch, n); Tensor out = Tensor.allocate(d, batch, n)) {
                Guidance.combine(out, tm, w);
                assertClose(comb, out.toArray(), 1e-5, 1e-5, "combine on " + d.id());
                Guidance.rescale(out, tm, w, phi);
                float[] got = out.toArray();
                assertClose(resc, got, 2e-5, 2e-5, "rescale on " + d.id());
                Guidance.rescale(out, tm, w, phi);
                assertArrayEquals(got, out.toArray(), "rescale is deterministic on " + d.id());
                if (phi == 1.0 && n > 1) { // the rescaled prediction has the conditional std exactly
                    for (int b = 0; b < batch; b++) {
                        double[] c = new double[n], o = new double[n];
                        for (int j = 0; j < n; j++) { c[j] = m[b * n + j]; o[j] = got[b * n + j]; }
                        assertEquals(std(c), std(o), 1e-4 * std(c), "std of sample " + b);
                    }
                }
            }
        }
    }

    static double std(double[] v) {
        double s = 0, q = 0;
        for (double x : v) s += x;
        for (double x : v) q += (x - s / v.length) * (x - s / v.length);
        return Math.sqrt(q / (v.length - 1));
    }

    @org.junit.jupiter.api.Test
    void rejectsAnUnbatchedOutput() {
        try (Tensor m = Tensor.allocate(TestDevices.java(), 3, 4); Tensor out = Tensor.allocate(TestDevices.java(), 3, 4)) {
            var e = assertThrows(IllegalArgumentException.class, () -> Guidance.combine(out, m, 1));
            assertTrue(e.getMessage().contains("2B rows"), e.getMessage());
        }
    }
}
