package dev.diffuse.kernels.diffusion;

import static dev.diffuse.runtime.Close.assertClose;
import static dev.diffuse.runtime.Close.randn;
import static org.junit.jupiter.api.Assertions.*;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.diffuse.kernels.reduce.Reduce;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Philox;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;

/** sampler_combine and langevin_correct: definition on both devices (noise included), aliasing, Java vs OpenCL. */
class SamplerCombineTest {
    static final long SEED = 77L;

    static List<Device> devices() { return List.of(TestDevices.java(), TestDevices.openCl()); }

    @ParameterizedTest
    @CsvSource({"0, 7, 0", "1, 93, 1", "2, 144, 1", "3, 5, 0", "4, 50001, 1", "4, 1, 1"})
    void combineMatchesDefinitionWithInKernelNoise(int k, int n, int withNoise) {
        float[] x = randn(1, n);
        float[][] m = new float[k][];
        for (int j = 0; j < k; j++) m[j] = randn(10 + j, n);
        double a = 0.9, p = 1.3, q = -0.4, c = withNoise == 1 ? 0.25 : 0;
        double[] b = new double[k];
        for (int j = 0; j < k; j++) b[j] = 0.5 - 0.3 * j;
        float[] z = new float[n];
        Philox.normals(SEED, 5, 0, z, 0, n);
        float[] expect = new float[n], expectAux = new float[n];
        for (int i = 0; i < n; i++) {
            double v = a * x[i] + c * z[i];
            for (int j = 0; j < k; j++) v += b[j] * m[j][i];
            expect[i] = (float) v;
            expectAux[i] = (float) (p * x[i] + q * (k > 0 ? m[0][i] : 0));
        }
        for (Device d : devices()) {
            Tensor[] tm = new Tensor[k];
            for (int j = 0; j < k; j++) tm[j] = Tensor.of(d, m[j], n);
            try (Tensor tx = Tensor.of(d, x, n); Tensor out = Tensor.allocate(d, n); Tensor aux = Tensor.allocate(d, n)) {
                SamplerCombine.combine(out, k > 0 ? aux : null, tx, tm, a, b, p, q, c, SEED, 5);
                assertClose(expect, out.toArray(), 1e-5, 1e-5, d + " combine k=" + k);
                if (k > 0) assertClose(expectAux, aux.toArray(), 1e-5, 1e-5, d + " aux");
            } finally {
                for (Tensor t : tm) t.close();
            }
        }
    }

    @Test
    void outMayAliasXAndAuxMayAliasAnInput() {
        int n = 1001;
        float[] x = randn(1, n), m = randn(2, n), prev = randn(3, n);
        float[] expect = new float[n], expectAux = new float[n];
        for (int i = 0; i < n; i++) {
            expect[i] = (float) (0.7 * x[i] + 0.2 * m[i] - 0.1 * prev[i]);
            expectAux[i] = (float) (2 * x[i] - 3 * m[i]);
        }
        for (Device d : devices()) {
            try (Tensor tx = Tensor.of(d, x, n); Tensor tm = Tensor.of(d, m, n); Tensor tp = Tensor.of(d, prev, n)) {
                // DPM-Solver++(2M): x <- a x + b m + b' x0_prev and x0_prev <- p x + q m in one pass
                SamplerCombine.combine(tx, tp, tx, new Tensor[]{tm, tp}, 0.7, new double[]{0.2, -0.1}, 2, -3, 0, SEED, 1);
                assertClose(expect, tx.toArray(), 1e-5, 1e-5, d + " in-place x");
                assertClose(expectAux, tp.toArray(), 1e-5, 1e-5, d + " aux over its own input");
            }
        }
    }

    @Test
    void langevinCorrectorReadsTheNormsFromTheDevice() {
        int n = 3 * 333;
        float[] x = randn(4, n), g = randn(5, n), z = randn(6, n);
        double gx = -0.3, gg = 1.7, r = 0.16, alpha = 0.98;
        double ssz = 0, ssg = 0;
        for (int i = 0; i < n; i++) {
            ssz += (double) z[i] * z[i];
            double s = gx * x[i] + gg * g[i];
            ssg += s * s;
        }
        double eps = 2 * alpha * r * r * ssz / ssg;
        float[] expect = new float[n];
        for (int i = 0; i < n; i++) expect[i] = (float) (x[i] + eps * (gx * x[i] + gg * g[i]) + Math.sqrt(2 * eps) * z[i]);
        float[][] got = new float[2][];
        int di = 0;
        for (Device d : devices()) {
            try (Tensor tx = Tensor.of(d, x, n); Tensor tg = Tensor.of(d, g, n); Tensor tz = Tensor.of(d, z, n);
                 Tensor score = Tensor.allocate(d, n); Tensor sz = Tensor.allocate(d, 1); Tensor sg = Tensor.allocate(d, 1);
                 Tensor out = Tensor.allocate(d, n)) {
                // the general path: materialise the score, reduce it, then the corrector with ||score||^2 = ss_g
                SamplerStep.step(score, tx, tg, gx, gg, 0, 0, 0);
                Reduce.sumSquares(sz, tz);
                Reduce.sumSquares(sg, score);
                SamplerCombine.langevinCorrect(out, tx, score, tz, sz, sg, 0, 1, 1, 2 * alpha * r * r);
                assertClose(expect, out.toArray(), 1e-4, 1e-4, d + " langevin corrector");
                got[di++] = out.toArray();
                // gx = 0 path: the norm of g itself, scaled by gg^2
                Reduce.sumSquares(sg, tg);
                SamplerCombine.langevinCorrect(out, tx, tg, tz, sz, sg, 0, gg, gg * gg, 2 * alpha * r * r);
                double ssg2 = 0;
                for (float v : g) ssg2 += gg * gg * v * v;
                double eps2 = 2 * alpha * r * r * ssz / ssg2;
                float[] e2 = new float[n];
                for (int i = 0; i < n; i++) e2[i] = (float) (x[i] + eps2 * gg * g[i] + Math.sqrt(2 * eps2) * z[i]);
                assertClose(e2, out.toArray(), 1e-4, 1e-4, d + " langevin corrector with scaled norm");
            }
        }
        assertClose(got[0], got[1], 1e-5, 1e-5, "Java vs OpenCL corrector");
    }

    @Test
    void argumentErrorsSayWhatToDo() {
        Device d = TestDevices.java();
        try (Tensor a = Tensor.allocate(d, 4); Tensor b = Tensor.allocate(d, 5); Tensor one = Tensor.allocate(d, 1)) {
            assertThrows(IllegalArgumentException.class, () -> SamplerCombine.combine(a, a, new Tensor[]{b}, 1, new double[]{1}, 0, 0, 0));
            var e = assertThrows(IllegalArgumentException.class,
                    () -> SamplerCombine.combine(a, a, new Tensor[]{a, a, a, a, a}, 1, new double[5], 0, 0, 0));
            assertTrue(e.getMessage().contains("0..4"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> SamplerCombine.langevinCorrect(a, a, a, a, a, one, 0, 1, 1, 1));
        }
    }
}
