package dev.diffuse.kernels.scheduler;

import static dev.diffuse.runtime.Close.assertClose;
import static dev.diffuse.runtime.Close.randn;
import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.diffuse.kernels.scheduler.SchedulerStep.Clip;
import dev.diffuse.kernels.scheduler.SchedulerStep.Coefficients;
import dev.diffuse.kernels.scheduler.SchedulerStep.Variance;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.Philox;
import dev.diffuse.runtime.RowNoise;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;

/** diffusers' fused step with a noise key per sample: definition on Java, OpenCL vs Java on odd sizes, shared-seed equality. */
class SchedulerRowNoiseTest {
    @ParameterizedTest(name = "{0} B={1} per={2}")
    @CsvSource({"NONE, 1, 7", "CLIP, 3, 93", "THRESHOLD, 5, 33"})
    void stepWithRowKeysFollowsTheDefinition(Clip clip, int batch, int per) {
        int n = batch * per;
        float[] x = randn(1, n), m = randn(2, n), thr = new float[batch];
        for (int b = 0; b < batch; b++) thr[b] = 1 + 0.25f * b;
        Coefficients k = new Coefficients(1.2, -0.4, clip, -1, 1, 0.7, 0.2, 0.05, 0.3, Variance.FIXED, 0, 0, true);
        long[] seeds = new long[batch], firsts = new long[batch];
        for (int b = 0; b < batch; b++) {
            seeds[b] = 7 + b % 2;
            firsts[b] = (long) (3 * b + 1) * per;
        }
        try (RowNoise keys = new RowNoise(seeds, firsts)) {
            float[][] got = new float[2][];
            Device[] devs = {TestDevices.java(), TestDevices.openCl()};
            for (int v = 0; v < 2; v++) {
                try (Tensor tx = Tensor.of(devs[v], x, batch, per); Tensor tm = Tensor.of(devs[v], m, batch, per);
                     Tensor tt = Tensor.of(devs[v], thr, batch); Tensor out = Tensor.allocate(devs[v], batch, per)) {
                    SchedulerStep.step(out, null, tx, tm, tt, k, keys, 9);
                    got[v] = out.toArray();
                }
            }
            for (int i = 0; i < n; i++) {
                int b = i / per, j = i % per;
                float x0 = (float) k.p() * x[i] + (float) k.q() * m[i];
                if (clip == Clip.THRESHOLD) x0 = Math.min(Math.max(x0, -thr[b]), thr[b]) / thr[b];
                if (clip == Clip.CLIP) x0 = Math.min(Math.max(x0, -1f), 1f);
                float z = Philox.normal(seeds[b], 9, firsts[b] + j);
                float expect = (float) k.a() * x[i] + (float) k.b() * x0 + (float) k.d() * m[i] + (float) k.c() * z;
                assertEquals(expect, got[0][i], 0f, "java element " + i);
            }
            assertClose(got[0], got[1], 2e-6, 2e-6, "opencl vs java");
        }
    }

    @ParameterizedTest
    @CsvSource({"4, 93"})
    void oneRequestsRowsGiveWhatItsSharedSeedGives(int batch, int per) {
        float[] x = randn(3, batch * per), m = randn(4, batch * per);
        Coefficients k = new Coefficients(1, -0.5, Clip.CLIP, -1, 1, 0.5, 0.5, 0, 0.2, Variance.FIXED, 0, 0, true);
        try (Tensor tx = Tensor.of(TestDevices.java(), x, batch, per); Tensor tm = Tensor.of(TestDevices.java(), m, batch, per);
             Tensor a = Tensor.allocate(TestDevices.java(), batch, per); Tensor b = Tensor.allocate(TestDevices.java(), batch, per);
             RowNoise keys = RowNoise.ofRequest(31, batch, per)) {
            SchedulerStep.step(a, null, tx, tm, null, k, Noise.seed(31), 2);
            SchedulerStep.step(b, null, tx, tm, null, k, keys, 2);
            assertArrayEquals(a.toArray(), b.toArray());
            try (RowNoise wrong = RowNoise.ofRequest(31, batch * per, 1)) {
                var e = assertThrows(IllegalArgumentException.class, () -> SchedulerStep.step(a, null, tx, tm, null, k, wrong, 2));
                assertTrue(e.getMessage().contains("one row per sample"), e.getMessage());
            }
        }
    }
}
