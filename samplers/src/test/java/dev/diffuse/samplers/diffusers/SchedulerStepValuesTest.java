package dev.diffuse.samplers.diffusers;

import static dev.diffuse.runtime.Close.assertClose;
import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Philox;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;

/**
 * Step outputs against the spec formulas evaluated by hand on a 4-step trained schedule (betas 0.1, 0.2, 0.3, 0.4:
 * alpha_bar = 0.9, 0.72, 0.504, 0.3024), then the double references against the fused kernels on both devices.
 */
class SchedulerStepValuesTest {
    static final double[] X = {0.5, -1.2, 2.0}, M = {0.3, 0.8, -0.4}, Z = {1.0, -0.5, 0.25};

    static SchedulerConfig tiny(String... kv) {
        SchedulerConfig c = SchedulerConfig.fromMap(Map.of("num_train_timesteps", 4, "trained_betas", List.of(0.1, 0.2, 0.3, 0.4),
                "clip_sample", false));
        for (int i = 0; i < kv.length; i += 2)
            c = c.with(kv[i], kv[i + 1].equals("true") || kv[i + 1].equals("false") ? (Object) Boolean.valueOf(kv[i + 1]) : kv[i + 1]);
        return c;
    }

    static double x0(String pred, double at, double x, double m) {
        return switch (pred) {
            case "epsilon" -> (x - Math.sqrt(1 - at) * m) / Math.sqrt(at);
            case "sample" -> m;
            default -> Math.sqrt(at) * x - Math.sqrt(1 - at) * m;
        };
    }

    /** DDPM at t = 2 (no set_timesteps: prev = 1): a_t = 0.504, a_p = 0.72, alpha = 0.7, beta = 0.3. */
    @ParameterizedTest(name = "DDPM {0} {1}")
    @CsvSource({"epsilon, fixed_small", "sample, fixed_small_log", "v_prediction, fixed_large", "epsilon, fixed_large"})
    void ddpmByHand(String pred, String var) {
        DdpmScheduler s = new DdpmScheduler(tiny("prediction_type", pred, "variance_type", var));
        double c0 = Math.sqrt(0.72) * 0.3 / 0.496, ct = Math.sqrt(0.7) * 0.28 / 0.496;
        double std = var.equals("fixed_large") ? Math.sqrt(0.3) : Math.sqrt(0.28 / 0.496 * 0.3);
        double[][] got = s.stepReference(M, 2, X, Z, 1);
        for (int i = 0; i < 3; i++) {
            double x0 = x0(pred, 0.504, X[i], M[i]);
            assertEquals(x0, got[1][i], 1e-6, "x0");
            assertEquals(c0 * x0 + ct * X[i] + std * Z[i], got[0][i], 1e-6, "x_prev");
        }
        // the last step (t = 0, prev = -1, a_p = 1): x_prev = x0, no noise
        double[][] last = s.stepReference(M, 0, X, Z, 1);
        for (int i = 0; i < 3; i++) assertEquals(x0(pred, 0.9, X[i], M[i]), last[0][i], 1e-6, "x_prev at t = 0");
    }

    /** learned_range: log variance interpolates ln(beta) and ln(var_small) with f = (v + 1) / 2; learned: sqrt(v). */
    @Test
    void ddpmLearnedVariancesByHand() {
        double[] mv = {0.3, 0.8, -0.4, 0.5, -1.0, 0.02}; // prediction, then v
        double c0 = Math.sqrt(0.72) * 0.3 / 0.496, ct = Math.sqrt(0.7) * 0.28 / 0.496, vs = 0.28 / 0.496 * 0.3;
        double[][] range = new DdpmScheduler(tiny("variance_type", "learned_range")).stepReference(mv, 2, X, Z, 1);
        double[][] learned = new DdpmScheduler(tiny("variance_type", "learned")).stepReference(mv, 2, X, Z, 1);
        for (int i = 0; i < 3; i++) {
            double v = mv[3 + i], f = (v + 1) / 2, mu = c0 * x0("epsilon", 0.504, X[i], M[i]) + ct * X[i];
            assertEquals(mu + Math.exp(0.5 * (f * Math.log(0.3) + (1 - f) * Math.log(vs))) * Z[i], range[0][i], 1e-6);
            if (v > 0) assertEquals(mu + Math.sqrt(v) * Z[i], learned[0][i], 1e-6);
        }
        assertEquals(Math.sqrt(0.3), Math.exp(0.5 * Math.log(0.3)), 1e-15); // v = 1 is fixed_large, v = -1 fixed_small
    }

    /** DDIM with S = 2 on N = 4: timesteps 2, 0; prev = t - 2. At t = 2: a_t = 0.504, a_p = a_0 = 0.9. */
    @ParameterizedTest(name = "DDIM {0} eta={1} clipped={2}")
    @CsvSource({"epsilon, 0, false", "sample, 0.5, false", "v_prediction, 1, false", "epsilon, 1, true"})
    void ddimByHand(String pred, double eta, boolean clipped) {
        DdimScheduler s = new DdimScheduler(tiny("prediction_type", pred));
        s.setTimesteps(2);
        assertArrayEquals(new int[]{2, 0}, s.timesteps());
        double at = 0.504, ap = 0.9, bt = 0.496;
        double sigma = eta * Math.sqrt((1 - ap) / bt * (1 - at / ap));
        double[][] got = s.stepReference(M, 2, X, eta, clipped, Z, 1);
        for (int i = 0; i < 3; i++) {
            double x0 = x0(pred, at, X[i], M[i]);
            double e = switch (pred) {
                case "epsilon" -> M[i];
                case "sample" -> (X[i] - Math.sqrt(at) * x0) / Math.sqrt(bt);
                default -> Math.sqrt(at) * M[i] + Math.sqrt(bt) * X[i];
            };
            assertEquals(Math.sqrt(ap) * x0 + Math.sqrt(1 - ap - sigma * sigma) * e + sigma * Z[i], got[0][i], 1e-6, "x_prev");
        }
        // the last step: prev = -2 -> final_alpha_cumprod = 1 (set_alpha_to_one) or a_0 = 0.9
        DdimScheduler no1 = new DdimScheduler(tiny("set_alpha_to_one", "false"));
        no1.setTimesteps(2);
        assertEquals(0.9, no1.finalAlphaCumprod(), 1e-7);
        double[][] fin = no1.stepReference(M, 0, X, 0, false, Z, 1);
        for (int i = 0; i < 3; i++) assertEquals(X[i], fin[0][i], 1e-6, "a_t = a_p = 0.9 maps x to itself");
    }

    @Test
    void clippingAndThresholdingByHand() {
        double[] x = {3, -0.5, 0.2, 1.5}, m = {0, 0, 0, 0};
        // sample prediction: x0 = m; use m = x so x0 = x
        var clip = new DdpmScheduler(tiny("prediction_type", "sample", "clip_sample", "true").with("clip_sample_range", 1.0));
        assertArrayEquals(new double[]{1, -0.5, 0.2, 1}, clip.stepReference(x, 2, m, new double[4], 1)[1], 1e-12);
        // thresholding, ratio 0.5 on |x0| = {0.2, 0.5, 1.5, 3}: pos 1.5 -> 0.5 + 0.5 (1.5 - 0.5) = 1.0 -> s = 1: plain clip
        // ratio 0.9: pos 2.7 -> 1.5 + 0.7 (3 - 1.5) = 2.55; clamp to sample_max_value 2 -> s = 2: x0 / 2 clamped to [-1, 1]
        var thr = new DdpmScheduler(tiny("prediction_type", "sample", "thresholding", "true").with("dynamic_thresholding_ratio", 0.9)
                .with("sample_max_value", 2.0));
        assertArrayEquals(new double[]{1, -0.25, 0.1, 0.75}, thr.stepReference(x, 2, m, new double[4], 1)[1], 1e-12);
        var thr3 = new DdpmScheduler(tiny("prediction_type", "sample", "thresholding", "true").with("dynamic_thresholding_ratio", 0.9)
                .with("sample_max_value", 3.0));
        assertArrayEquals(new double[]{1, -0.5 / 2.55, 0.2 / 2.55, 1.5 / 2.55}, thr3.stepReference(x, 2, m, new double[4], 1)[1], 1e-12);
    }

    /** eta = 1 DDIM has DDPM fixed_small's mean and std (spec §6.5), step by step on the same leading timesteps. */
    @Test
    void ddimEtaOneIsDdpmFixedSmall() {
        SchedulerConfig c = SchedulerConfig.defaults().with("clip_sample", false);
        DdimScheduler ddim = new DdimScheduler(c);
        DdpmScheduler ddpm = new DdpmScheduler(c);
        ddim.setTimesteps(20);
        ddpm.setTimesteps(20);
        double[] x = {0.3, -1.1, 2.2, 0.01, -0.7}, m = {1.2, 0.1, -0.3, 0.9, -2.0}, z = {0.4, -1.3, 0.2, 2.1, -0.6};
        for (int t : ddim.timesteps()) {
            assertEquals(ddpm.previousTimestep(t) < 0 ? -50 : ddpm.previousTimestep(t), ddim.previousTimestep(t));
            double[] a = ddim.stepReference(m, t, x, 1.0, false, z, 1)[0], b = ddpm.stepReference(m, t, x, t > 0 ? z : new double[5], 1)[0];
            assertArrayEquals(b, a, 1e-9, "t = " + t);
        }
    }

    /** The fused kernels against the double references, every prediction and variance type, noise from Philox. */
    @ParameterizedTest(name = "{0} {1} {2}")
    @CsvSource({"ddpm, epsilon, fixed_small, false", "ddpm, v_prediction, fixed_large, false", "ddpm, sample, fixed_small_log, false",
            "ddpm, epsilon, learned_range, false", "ddpm, epsilon, learned, false", "ddpm, epsilon, fixed_small, true",
            "ddim, epsilon, fixed_small, false", "ddim, v_prediction, fixed_small, true", "ddim, sample, fixed_small, false"})
    void devicesMatchReference(String kind, String pred, String var, boolean thresholding) {
        SchedulerConfig c = SchedulerConfig.defaults().with("prediction_type", pred).with("variance_type", var)
                .with("thresholding", thresholding).with("sample_max_value", 3.0).with("clip_sample", !thresholding);
        int batch = 3, per = 75, t = 600;
        boolean learned = var.startsWith("learned");
        float[] x = dev.diffuse.runtime.Close.randn(1, batch * per), m = dev.diffuse.runtime.Close.randn(2, batch * per * (learned ? 2 : 1));
        for (int i = 0; i < x.length; i++) x[i] *= 2;
        if (var.equals("learned")) for (int b = 0; b < batch; b++)
            for (int j = 0; j < per; j++) m[b * 2 * per + per + j] = 0.001f + Math.abs(m[b * 2 * per + per + j]) * 0.01f;
        float[] z = new float[x.length];
        Philox.normals(5, 9, 0, z, 0, z.length);
        double[] xd = toDouble(x), md = toDouble(m), zd = toDouble(z);
        DiffusersScheduler s = kind.equals("ddpm") ? new DdpmScheduler(c) : new DdimScheduler(c);
        s.setTimesteps(50);
        double eta = 0.7;
        double[][] want = s instanceof DdpmScheduler d ? d.stepReference(md, t, xd, zd, batch)
                : ((DdimScheduler) s).stepReference(md, t, xd, eta, false, zd, batch);
        for (Device dev : List.of(TestDevices.java(), TestDevices.openCl())) {
            try (Tensor tx = Tensor.of(dev, x, batch, per); Tensor tm = Tensor.of(dev, m, batch, m.length / batch);
                 Tensor out = Tensor.allocate(dev, batch, per); Tensor x0 = Tensor.allocate(dev, batch, per); Tensor thr = Tensor.allocate(dev, batch)) {
                if (s instanceof DdpmScheduler d) d.step(out, x0, tm, t, tx, thr, 5, 9);
                else ((DdimScheduler) s).step(out, x0, tm, t, tx, eta, false, thr, 5, 9);
                assertClose(toFloat(want[1]), x0.toArray(), 1e-5, 1e-5, "x0 on " + dev.id());
                assertClose(toFloat(want[0]), out.toArray(), 1e-5, 1e-5, "x_prev on " + dev.id());
            }
        }
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
        return f;
    }
}
