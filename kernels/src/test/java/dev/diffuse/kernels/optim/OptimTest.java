package dev.diffuse.kernels.optim;

import static dev.diffuse.runtime.Close.assertClose;
import static dev.diffuse.runtime.Close.randn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;

/** AdamW against a double-precision transcription of torch.optim.AdamW; EMA, grad norm; OpenCL vs Java. */
class OptimTest {
    private static final JavaDevice J = TestDevices.java();
    private static final Optim.AdamWConfig CFG = new Optim.AdamWConfig(1e-2, 0.9, 0.999, 1e-8, 0.05);

    /**
     * torch.optim.AdamW._single_tensor_adamw in double, preceded by clip_grad_norm_(max_norm) on the whole
     * parameter list: g *= min(1, max_norm / (||g|| + 1e-6)).
     */
    static void adamwDouble(double[] p, double[] m, double[] v, double[] grad, double maxNorm, Optim.AdamWConfig c, int t) {
        double ss = 0;
        for (double g : grad) ss += g * g;
        double clip = Math.min(1, maxNorm / (Math.sqrt(ss) + 1e-6));
        double bc1 = 1 - Math.pow(c.beta1(), t), bc2 = 1 - Math.pow(c.beta2(), t);
        for (int i = 0; i < p.length; i++) {
            double g = grad[i] * clip;
            p[i] *= 1 - c.lr() * c.weightDecay();
            m[i] = c.beta1() * m[i] + (1 - c.beta1()) * g;
            v[i] = c.beta2() * v[i] + (1 - c.beta2()) * g * g;
            double denom = Math.sqrt(v[i]) / Math.sqrt(bc2) + c.eps();
            p[i] -= c.lr() / bc1 * m[i] / denom;
        }
    }

    /** Runs 'steps' clipped AdamW steps on dev; gradients of step s are randn(100 + s). Returns {p, m, v}. */
    private static float[][] adamwOn(Device dev, float[] p0, int steps, float maxNorm, boolean clipped) {
        int n = p0.length;
        try (Tensor p = Tensor.of(dev, p0, n); Tensor m = Tensor.allocate(dev, n); Tensor v = Tensor.allocate(dev, n);
             Tensor g = Tensor.allocate(dev, n); Tensor norm = Tensor.allocate(dev, 1); Tensor clip = Tensor.allocate(dev, 1)) {
            for (int s = 1; s <= steps; s++) {
                g.upload(randn(100 + s, n));
                Optim.gradNorm(norm, clip, g, 1f, maxNorm);
                Optim.adamw(p, m, v, g, clipped ? clip : null, 1f, CFG, s);
            }
            return new float[][]{p.toArray(), m.toArray(), v.toArray()};
        }
    }

    private static double[] d(float[] f) {
        double[] o = new double[f.length];
        for (int i = 0; i < f.length; i++) o[i] = f[i];
        return o;
    }

    @Test
    void javaAdamWMatchesDoubleTorchReferenceOverSteps() {
        int n = 50, steps = 6;
        float[] p0 = randn(1, n);
        for (double maxNorm : new double[]{Double.POSITIVE_INFINITY, 2.0}) {
            double[] p = d(p0), m = new double[n], v = new double[n];
            for (int s = 1; s <= steps; s++) adamwDouble(p, m, v, d(randn(100 + s, n)), maxNorm, CFG, s);
            float[][] got = adamwOn(J, p0, steps, (float) maxNorm, true);
            String what = "maxNorm " + maxNorm;
            assertClose(p, d(got[0]), 1e-6, 1e-5, "params, " + what);
            assertClose(m, d(got[1]), 1e-7, 1e-5, "exp_avg, " + what);
            assertClose(v, d(got[2]), 1e-9, 1e-5, "exp_avg_sq, " + what);
        }
    }

    /** Vector lanes and the scalar tail of the Java path compute identical bits for identical inputs. */
    @Test
    void javaVectorLanesAndScalarTailAgreeBitForBit() {
        int n = 64 + 3;
        float[] base = randn(77, 6), p0 = new float[n], g = new float[n];
        for (int i = 0; i < n; i++) {
            p0[i] = base[i % 3];
            g[i] = base[3 + i % 3];
        }
        try (Tensor p = Tensor.of(J, p0, n); Tensor m = Tensor.allocate(J, n); Tensor v = Tensor.allocate(J, n);
             Tensor tg = Tensor.of(J, g, n); Tensor e = Tensor.of(J, g, n); Tensor norm = Tensor.allocate(J, 1);
             Tensor clip = Tensor.allocate(J, 1)) {
            for (int s = 1; s <= 3; s++) {
                Optim.gradNorm(norm, clip, tg, 0.5f, 1f);
                Optim.adamw(p, m, v, tg, clip, 0.5f, CFG, s);
                Optim.ema(e, p, 0.9);
            }
            for (Tensor t : new Tensor[]{p, m, v, e}) {
                float[] a = t.toArray();
                for (int i = 3; i < n; i++) assertEquals(a[i % 3], a[i], "element " + i + " of " + t);
            }
        }
    }

    @Test
    void gradientScaleAndClipMultiplyTheGradient() {
        int n = 20;
        float[] g = randn(5, n);
        double ss = 0;
        for (float x : g) ss += (double) x * x;
        try (Tensor tg = Tensor.of(J, g, n); Tensor norm = Tensor.allocate(J, 1); Tensor clip = Tensor.allocate(J, 1)) {
            Optim.gradNorm(norm, clip, tg, -0.5f, 1f);
            assertEquals(0.5 * Math.sqrt(ss), norm.get(0), 1e-6);
            assertEquals(Math.min(1, 1 / (0.5 * Math.sqrt(ss) + 1e-6)), clip.get(0), 1e-6);
            Optim.gradNorm(norm, clip, tg, 1f, Float.POSITIVE_INFINITY);
            assertEquals(1f, clip.get(0));
        }
        assertThrows(IllegalArgumentException.class, () -> Optim.AdamWConfig.torchDefaults(1e-3).scalars(0));
    }

    @Test
    void emaMatchesDefinition() {
        int n = 33;
        float[] e = randn(1, n), p = randn(2, n);
        try (Tensor te = Tensor.of(J, e, n); Tensor tp = Tensor.of(J, p, n)) {
            Optim.ema(te, tp, 0.999);
            double[] want = new double[n];
            for (int i = 0; i < n; i++) want[i] = 0.999 * e[i] + 0.001 * p[i];
            assertClose(want, d(te.toArray()), 1e-7, 1e-6, "ema");
        }
    }

    @ParameterizedTest(name = "n={0}")
    @ValueSource(ints = {1, 7, 93, 144, 257, 100_003})
    void openClMatchesJava(int n) {
        float[] p0 = randn(n, n);
        for (boolean clipped : new boolean[]{false, true}) {
            float[][] j = adamwOn(J, p0, 3, 3f, clipped), c = adamwOn(TestDevices.openCl(), p0, 3, 3f, clipped);
            String[] names = {"params", "m", "v"};
            for (int i = 0; i < 3; i++) assertClose(j[i], c[i], 1e-6, 1e-5, names[i] + " n=" + n + " clipped=" + clipped);
        }
        float[] e = randn(n + 1, n), g = randn(n + 2, n);
        float[][] res = new float[2][];
        Device[] devs = {J, TestDevices.openCl()};
        for (int k = 0; k < 2; k++)
            try (Tensor te = Tensor.of(devs[k], e, n); Tensor tp = Tensor.of(devs[k], p0, n); Tensor tg = Tensor.of(devs[k], g, n);
                 Tensor norm = Tensor.allocate(devs[k], 1); Tensor clip = Tensor.allocate(devs[k], 1)) {
                Optim.ema(te, tp, 0.9999);
                Optim.gradNorm(norm, clip, tg, 0.25f, 1.5f);
                float[] ev = te.toArray();
                res[k] = new float[ev.length + 2];
                System.arraycopy(ev, 0, res[k], 0, ev.length);
                res[k][ev.length] = norm.get(0);
                res[k][ev.length + 1] = clip.get(0);
            }
        assertClose(res[0], res[1], 1e-7, 1e-5, "ema, norm, clip n=" + n);
    }

    @Test
    void openClGradNormIsBitIdenticalAcrossRuns() {
        ClDevice cl = TestDevices.openCl();
        int n = 2_000_003; // many partial groups, ragged tail
        float[] g = randn(9, n);
        float[][] runs = new float[2][];
        for (int r = 0; r < 2; r++)
            try (Tensor tg = Tensor.of(cl, g, n); Tensor norm = Tensor.allocate(cl, 1); Tensor clip = Tensor.allocate(cl, 1)) {
                Optim.gradNorm(norm, clip, tg, 1f, 100f);
                runs[r] = new float[]{norm.get(0), clip.get(0)};
            }
        assertArrayEquals(runs[0], runs[1], "grad norm and clip must be bit-identical between runs");
        double ss = 0;
        for (float x : g) ss += (double) x * x;
        assertClose(new double[]{Math.sqrt(ss)}, d(new float[]{runs[0][0]}), 0, 1e-5, "norm vs double");
    }
}
