package dev.diffuse.kernels.scheduler;

import static dev.diffuse.runtime.Close.assertClose;
import static dev.diffuse.runtime.Close.randn;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.diffuse.kernels.scheduler.SchedulerStep.Clip;
import dev.diffuse.kernels.scheduler.SchedulerStep.Coefficients;
import dev.diffuse.kernels.scheduler.SchedulerStep.Variance;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Philox;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;

/** The fused diffusers step and the dynamic-threshold quantile: definition in double, Java vs OpenCL, determinism. */
class SchedulerStepTest {
    static final long SEED = 77;

    static List<Device> devices() { return List.of(TestDevices.java(), TestDevices.openCl()); }

    /** The step in double from the definition in SchedulerStep's Javadoc. */
    static float[] reference(float[] x, float[] m, float[] thr, Coefficients k, int batch, int per, float[] x0Out) {
        int stride = m.length / batch;
        float[] z = new float[x.length];
        Philox.normals(SEED, 5, 0, z, 0, z.length);
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            int b = i / per, j = i % per, mi = b * stride + j;
            double x0 = k.p() * x[i] + k.q() * m[mi];
            if (k.clip() == Clip.THRESHOLD) x0 = Math.min(Math.max(x0, -thr[b]), thr[b]) / thr[b];
            if (k.clip() == Clip.CLIP) x0 = Math.min(Math.max(x0, k.lo()), k.hi());
            double std = switch (k.variance()) {
                case FIXED -> k.c();
                case LEARNED -> Math.sqrt(m[mi + per]);
                case LEARNED_RANGE -> {
                    double f = (m[mi + per] + 1) / 2;
                    yield Math.exp(0.5 * (f * k.lnBeta() + (1 - f) * k.lnVar()));
                }
            };
            x0Out[i] = (float) x0;
            out[i] = (float) (k.a() * x[i] + k.b() * x0 + k.d() * m[mi] + (k.noisy() ? std * z[i] : 0));
        }
        return out;
    }

    @ParameterizedTest(name = "{0} {1} B={2} per={3}")
    @CsvSource({"NONE, FIXED, 1, 7", "CLIP, FIXED, 3, 147", "THRESHOLD, FIXED, 3, 33", "CLIP, LEARNED, 2, 28",
            "NONE, LEARNED_RANGE, 3, 75", "THRESHOLD, LEARNED_RANGE, 1, 4099"})
    void stepMatchesDefinition(Clip clip, Variance var, int batch, int per) {
        boolean learned = var != Variance.FIXED;
        float[] x = randn(1, batch * per), m = randn(2, batch * per * (learned ? 2 : 1)), thr = new float[batch];
        for (int b = 0; b < batch; b++) thr[b] = 1 + 0.3f * b;
        if (var == Variance.LEARNED) for (int b = 0; b < batch; b++)
            for (int j = 0; j < per; j++) m[b * 2 * per + per + j] = Math.abs(m[b * 2 * per + per + j]) * 0.01f;
        Coefficients k = new Coefficients(1.7, -1.3, clip, -1, 1, 0.9, 0.2, 0.05, 0.13, var, Math.log(0.02), Math.log(0.015), true);
        float[] x0 = new float[x.length], want = reference(x, m, thr, k, batch, per, x0);
        for (Device d : devices()) {
            try (Tensor tx = Tensor.of(d, x, batch, per); Tensor tm = Tensor.of(d, m, batch, m.length / batch);
                 Tensor tt = Tensor.of(d, thr, batch); Tensor out = Tensor.allocate(d, batch, per); Tensor x0o = Tensor.allocate(d, batch, per)) {
                SchedulerStep.step(out, x0o, tx, tm, tt, k, SEED, 5);
                assertClose(want, out.toArray(), 2e-5, 2e-5, "x_prev on " + d.id());
                assertClose(x0, x0o.toArray(), 2e-5, 2e-5, "x0 on " + d.id());
                SchedulerStep.step(tx, null, tx, tm, tt, k, SEED, 5); // in place, no x0 output
                assertClose(want, tx.toArray(), 2e-5, 2e-5, "in-place x_prev on " + d.id());
            }
        }
    }

    /** torch.quantile with linear interpolation, then clamp to [1, smax], from a plain sort in double. */
    static float referenceThreshold(float[] v, double ratio, double smax) {
        float[] u = v.clone();
        for (int i = 0; i < u.length; i++) u[i] = Math.abs(u[i]);
        Arrays.sort(u);
        double r = ratio * (u.length - 1);
        int lo = (int) Math.floor(r), hi = (int) Math.ceil(r);
        double s = u[lo] + (r - lo) * (u[hi] - u[lo]);
        return (float) Math.min(Math.max(s, 1), smax);
    }

    @ParameterizedTest(name = "B={0} per={1} ratio={2}")
    @CsvSource({"1, 2, 0.5", "3, 7, 0.995", "3, 3072, 0.995", "2, 4097, 0.9", "1, 300, 1.0", "2, 100, 0.0"})
    void quantileMatchesSortOnBothDevices(int batch, int per, double ratio) {
        float[] x = randn(3, batch * per), m = randn(4, batch * per);
        for (int i = 0; i < x.length; i += 3) x[i] = 2.5f; // ties
        double p = 1.5, q = -0.5, smax = 2.2;
        float[] want = new float[batch];
        for (int b = 0; b < batch; b++) {
            float[] v = new float[per];
            for (int j = 0; j < per; j++) v[j] = (float) p * x[b * per + j] + (float) q * m[b * per + j];
            want[b] = referenceThreshold(v, ratio, smax);
        }
        for (Device d : devices()) {
            try (Tensor tx = Tensor.of(d, x, batch, per); Tensor tm = Tensor.of(d, m, batch, per); Tensor thr = Tensor.allocate(d, batch)) {
                SchedulerStep.absQuantile(thr, tx, tm, p, q, ratio, smax);
                float[] got = thr.toArray();
                assertClose(want, got, 1e-6, 1e-6, "threshold on " + d.id());
                SchedulerStep.absQuantile(thr, tx, tm, p, q, ratio, smax);
                assertArrayEquals(got, thr.toArray(), "threshold is deterministic on " + d.id());
            }
        }
    }

    @Test
    void quantileFindsExactOrderStatisticsBeyondTheClamp() {
        int per = 1001;
        float[] x = new float[per], m = new float[per];
        for (int j = 0; j < per; j++) x[j] = (j * 37 % per) * 0.01f - 5f; // a permutation of -5 .. 5
        for (Device d : devices()) {
            try (Tensor tx = Tensor.of(d, x, 1, per); Tensor tm = Tensor.of(d, m, 1, per); Tensor thr = Tensor.allocate(d, 1)) {
                SchedulerStep.absQuantile(thr, tx, tm, 1, 0, 0.5, 100);
                assertClose(new float[]{referenceThreshold(x, 0.5, 100)}, thr.toArray(), 1e-6, 0, "median of |x| on " + d.id());
            }
        }
    }

    @Test
    void errorsNameTheProblem() {
        Device d = TestDevices.java();
        try (Tensor x = Tensor.allocate(d, 2, 3); Tensor m = Tensor.allocate(d, 2, 4); Tensor out = Tensor.allocate(d, 2, 3)) {
            var k = new Coefficients(1, 0, Clip.THRESHOLD, 0, 0, 1, 0, 0, 0, Variance.FIXED, 0, 0, false);
            var e = assertThrows(IllegalArgumentException.class, () -> SchedulerStep.step(out, null, x, m, null, k, 1, 1));
            assertTrue(e.getMessage().contains("model output"), e.getMessage());
            try (Tensor m2 = Tensor.allocate(d, 2, 3)) {
                e = assertThrows(IllegalArgumentException.class, () -> SchedulerStep.step(out, null, x, m2, null, k, 1, 1));
                assertTrue(e.getMessage().contains("absQuantile"), e.getMessage());
            }
        }
    }
}
