package dev.diffuse.kernels.diffusion;

import static dev.diffuse.runtime.Close.assertClose;
import static dev.diffuse.runtime.Close.randn;
import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.Philox;
import dev.diffuse.runtime.RowNoise;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;

/**
 * The fused sampler updates with a noise key per row (the pipeline's batches of several requests): the definition
 * (z of element j of row r = normal first_r + j under seed_r) on the Java device, bit-equality with the shared seed
 * when the rows are one request's, and OpenCL vs Java on odd shapes (rows that start mid Philox block).
 */
class RowNoiseStepTest {
    static final long STREAM = 6;

    /** Keys of rows from three interleaved "requests", with first indices that are not multiples of 4. */
    static RowNoise keys(int rows, int d) {
        long[] s = new long[rows], f = new long[rows];
        for (int r = 0; r < rows; r++) {
            s[r] = 100 + r % 3;
            f[r] = (long) (r / 3 + 2 * (r % 3)) * d;
        }
        return new RowNoise(s, f);
    }

    static float[] z(RowNoise k, int rows, int d) {
        float[] z = new float[rows * d];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < d; j++) z[r * d + j] = Philox.normal(k.seed(r), STREAM, k.first(r) + j);
        return z;
    }

    @ParameterizedTest(name = "rows={0} d={1} m2={2}")
    @CsvSource({"1, 7, 0", "3, 5, 1", "7, 93, 0", "5, 145, 1", "64, 99, 1"})
    void stepFollowsTheDefinitionAndOpenClMatchesJava(int rows, int d, int withM2) {
        int n = rows * d;
        float[] x = randn(1, n), m = randn(2, n), m2 = randn(3, n);
        double a = 0.9, b = -0.3, b2 = withM2 == 1 ? 0.2 : 0, c = 0.37;
        try (RowNoise k = keys(rows, d)) {
            float[] z = z(k, rows, d), expect = new float[n];
            for (int i = 0; i < n; i++) {
                float v = (float) a * x[i] + (float) b * m[i];
                if (withM2 == 1) v += (float) b2 * m2[i];
                expect[i] = v + (float) c * z[i];
            }
            float[] java = run(TestDevices.java(), rows, d, x, m, withM2 == 1 ? m2 : null, a, b, b2, c, k);
            assertArrayEquals(expect, java, "java row step = definition, bit for bit");
            assertClose(java, run(TestDevices.openCl(), rows, d, x, m, withM2 == 1 ? m2 : null, a, b, b2, c, k), 2e-6, 2e-6, "opencl vs java");
        }
    }

    private static float[] run(Device dev, int rows, int d, float[] x, float[] m, float[] m2, double a, double b, double b2, double c, RowNoise k) {
        try (Tensor tx = Tensor.of(dev, x, rows, d); Tensor tm = Tensor.of(dev, m, rows, d);
             Tensor tm2 = m2 == null ? null : Tensor.of(dev, m2, rows, d); Tensor out = Tensor.allocate(dev, rows, d)) {
            SamplerStep.step(out, tx, tm, tm2, a, b, b2, c, k, STREAM);
            return out.toArray();
        }
    }

    @ParameterizedTest(name = "rows={0} d={1}")
    @CsvSource({"1, 9", "4, 93", "9, 28"})
    void clipX0StepFollowsTheDefinitionAndOpenClMatchesJava(int rows, int d) {
        int n = rows * d;
        float[] x = randn(4, n), m = randn(5, n);
        double p = 1.7, q = -0.9, lo = -1, hi = 1, a = 0.3, b = 0.6, dd = 0.05, c = 0.2;
        try (RowNoise k = keys(rows, d)) {
            float[] z = z(k, rows, d), expect = new float[n];
            for (int i = 0; i < n; i++) {
                float x0 = Math.min(Math.max((float) p * x[i] + (float) q * m[i], (float) lo), (float) hi);
                expect[i] = (float) a * x[i] + (float) b * x0 + (float) dd * m[i] + (float) c * z[i];
            }
            float[][] got = new float[2][];
            Device[] devs = {TestDevices.java(), TestDevices.openCl()};
            for (int v = 0; v < 2; v++) {
                try (Tensor tx = Tensor.of(devs[v], x, rows, d); Tensor tm = Tensor.of(devs[v], m, rows, d)) {
                    SamplerStep.stepClipX0(tx, tx, tm, p, q, lo, hi, a, b, dd, c, k, STREAM); // out aliases x
                    got[v] = tx.toArray();
                }
            }
            assertArrayEquals(expect, got[0], "java = definition");
            assertClose(got[0], got[1], 2e-6, 2e-6, "opencl vs java");
        }
    }

    @ParameterizedTest(name = "k={0} rows={1} d={2}")
    @CsvSource({"0, 3, 7", "1, 5, 93", "2, 2, 145", "4, 7, 11"})
    void combineFollowsTheDefinitionAndOpenClMatchesJava(int terms, int rows, int d) {
        int n = rows * d;
        float[] x = randn(6, n);
        float[][] m = new float[terms][];
        double[] b = new double[terms];
        for (int j = 0; j < terms; j++) {
            m[j] = randn(10 + j, n);
            b[j] = 0.4 - 0.2 * j;
        }
        double a = 1.1, p = 0.5, q = -2, c = 0.3;
        try (RowNoise k = keys(rows, d)) {
            float[][] got = new float[2][], aux = new float[2][];
            Device[] devs = {TestDevices.java(), TestDevices.openCl()};
            for (int v = 0; v < 2; v++) {
                Tensor[] tm = new Tensor[terms];
                for (int j = 0; j < terms; j++) tm[j] = Tensor.of(devs[v], m[j], n);
                try (Tensor tx = Tensor.of(devs[v], x, n); Tensor out = Tensor.allocate(devs[v], n); Tensor ta = Tensor.allocate(devs[v], n)) {
                    SamplerCombine.combine(out, terms > 0 ? ta : null, tx, tm, a, b, p, q, c, k, STREAM);
                    got[v] = out.toArray();
                    aux[v] = ta.toArray();
                } finally {
                    for (Tensor t : tm) t.close();
                }
            }
            float[] z = z(k, rows, d);
            for (int i = 0; i < n; i++) {
                double v = a * x[i] + c * z[i];
                for (int j = 0; j < terms; j++) v += b[j] * m[j][i];
                assertEquals(v, got[0][i], 1e-5 * (1 + Math.abs(v)), "java element " + i);
            }
            assertClose(got[0], got[1], 2e-6, 2e-6, "opencl vs java");
            if (terms > 0) assertClose(aux[0], aux[1], 1e-6, 1e-6, "aux opencl vs java");
        }
    }

    @ParameterizedTest(name = "rows={0} d={1}")
    @CsvSource({"1, 5", "6, 93", "3, 784"})
    void oneRequestsRowsGiveWhatItsSharedSeedGives(int rows, int d) {
        int n = rows * d;
        float[] x = randn(7, n), m = randn(8, n);
        for (Device dev : new Device[]{TestDevices.java(), TestDevices.openCl()}) {
            try (RowNoise k = RowNoise.ofRequest(55, rows, d); Tensor tx = Tensor.of(dev, x, rows, d); Tensor tm = Tensor.of(dev, m, rows, d);
                 Tensor shared = Tensor.allocate(dev, rows, d); Tensor keyed = Tensor.allocate(dev, rows, d)) {
                SamplerStep.step(shared, tx, tm, null, 0.8, 0.1, 0, 0.5, Noise.seed(55), STREAM);
                SamplerStep.step(keyed, tx, tm, null, 0.8, 0.1, 0, 0.5, k, STREAM);
                if (dev == TestDevices.java()) assertArrayEquals(shared.toArray(), keyed.toArray(), "java: bit for bit");
                else assertClose(shared.toArray(), keyed.toArray(), 2e-6, 2e-6, dev.id());
            }
        }
    }
}
