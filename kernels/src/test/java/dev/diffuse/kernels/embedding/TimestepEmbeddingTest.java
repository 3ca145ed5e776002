package dev.diffuse.kernels.embedding;

import static dev.diffuse.runtime.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;

/** Sinusoidal timestep embedding against the §3.2 formula computed by hand in double, and OpenCL against Java. */
class TimestepEmbeddingTest {
    static final float[] T = {0f, 1f, 17.5f, 500f, 999f};

    /**
     * The formula in double. {@code f32Steps}: round to float32 where PyTorch does (the spec's recipe); otherwise
     * pure double (the ideal value, which differs by up to ~1e-4 at t = 999).
     */
    static double[] formula(float[] ts, int dim, boolean flip, double shift, boolean f32Steps) {
        int half = dim / 2;
        double[] out = new double[ts.length * dim];
        for (int b = 0; b < ts.length; b++)
            for (int k = 0; k < half; k++) {
                double arg;
                if (f32Steps) {
                    float e = (float) ((double) (float) ((double) (float) -Math.log(10000.0) * k) / (double) (float) (half - shift));
                    float freq = (float) Math.exp(e);
                    arg = (float) ((double) ts[b] * freq);
                } else {
                    arg = ts[b] * Math.exp(-Math.log(10000.0) * k / (half - shift));
                }
                double s = Math.sin(arg), c = Math.cos(arg);
                out[b * dim + k] = flip ? c : s;
                out[b * dim + half + k] = flip ? s : c;
            }
        return out;   // odd dim: last column stays 0
    }

    static float[] run(Device dev, int dim, boolean flip, float shift) {
        try (Tensor t = Tensor.of(dev, T, T.length); Tensor out = Tensor.allocate(dev, T.length, dim)) {
            TimestepEmbedding.sinusoidal(out, t, flip, shift);
            return out.toArray();
        }
    }

    static double[] d(float[] a) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) r[i] = a[i];
        return r;
    }

    @ParameterizedTest(name = "dim={0} flip={1} shift={2}")
    @CsvSource({"128, false, 1", "32, true, 0", "33, true, 0", "7, false, 1", "64, true, 1"})
    void javaAndOpenClMatchFormula(int dim, boolean flip, float shift) {
        double[] recipe = formula(T, dim, flip, shift, true), ideal = formula(T, dim, flip, shift, false);
        float[] j = run(TestDevices.java(), dim, flip, shift);
        assertClose(recipe, d(j), 1e-7, 0, "java vs f32 recipe dim=" + dim);
        assertClose(ideal, d(j), 2e-4, 0, "java vs double formula dim=" + dim);
        float[] c = run(TestDevices.openCl(), dim, flip, shift);
        assertClose(j, c, 2e-6, 0, "OpenCL vs Java dim=" + dim);
        if (dim % 2 == 1)
            for (int b = 0; b < T.length; b++) assertEquals(0f, c[b * dim + dim - 1], "odd-dim padding");
    }

    @Test
    void knownValues() {
        // t = 1, dim = 4, shift 0, no flip: half 2, freq = [1, 10000^(-1/2) = 0.01] -> [sin 1, sin 0.01, cos 1, cos 0.01]
        try (Tensor t = Tensor.of(TestDevices.java(), new float[]{1f}, 1); Tensor out = Tensor.allocate(TestDevices.java(), 1, 4)) {
            TimestepEmbedding.sinusoidal(out, t, false, 0f);
            assertClose(new double[]{Math.sin(1), Math.sin(0.01), Math.cos(1), Math.cos(0.01)}, d(out.toArray()), 1e-7, 0, "dim 4");
        }
    }

    @Test
    void shiftEqualToHalfIsRejected() {
        try (Tensor t = Tensor.allocate(TestDevices.java(), 2); Tensor out = Tensor.allocate(TestDevices.java(), 2, 2)) {
            assertThrows(IllegalArgumentException.class, () -> TimestepEmbedding.sinusoidal(out, t, false, 1f));
        }
    }
}
