package dev.diffuse.kernels.diffusion;

import static dev.diffuse.runtime.Close.assertClose;
import static dev.diffuse.runtime.Close.randn;
import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Philox;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;

/** The fused q_sample and sampler-step kernels: definition (with the Philox noise), Java vs OpenCL on odd sizes. */
class DiffusionTest {
    static final long SEED = 20261123L;

    @ParameterizedTest
    @CsvSource({"1, 1", "3, 7", "3, 93", "5, 144", "2, 50001"})
    void qSampleMatchesDefinitionOnBothDevices(int batch, int perSample) {
        int n = batch * perSample;
        float[] x0 = randn(1, n), eps = randn(2, n), a = new float[batch], s = new float[batch];
        for (int b = 0; b < batch; b++) {
            a[b] = (float) Math.sqrt(0.1 + 0.8 * b / batch);
            s[b] = (float) Math.sqrt(1 - a[b] * a[b]);
        }
        float[] given = new float[n], drawn = new float[n], z = new float[n];
        Philox.normals(SEED, 9, 0, z, 0, n);
        for (int i = 0; i < n; i++) {
            int b = i / perSample;
            given[i] = a[b] * x0[i] + s[b] * eps[i];
            drawn[i] = a[b] * x0[i] + s[b] * z[i];
        }
        for (Device d : devices()) {
            try (Tensor tx = Tensor.of(d, x0, batch, perSample); Tensor te = Tensor.of(d, eps, batch, perSample);
                 Tensor ta = Tensor.of(d, a, batch); Tensor ts = Tensor.of(d, s, batch);
                 Tensor out = Tensor.allocate(d, batch, perSample); Tensor epsOut = Tensor.allocate(d, batch, perSample)) {
                QSample.apply(out, tx, te, ta, ts);
                assertClose(given, out.toArray(), 1e-6, 1e-6, "q_sample given eps on " + d.id());
                QSample.applyDrawn(out, epsOut, tx, ta, ts, SEED, 9);
                assertClose(drawn, out.toArray(), 2e-6, 2e-6, "q_sample drawn eps on " + d.id());
                assertClose(z, epsOut.toArray(), 2e-6, 2e-6, "drawn eps written out on " + d.id());
                QSample.applyDrawn(tx, null, tx, ta, ts, SEED, 9); // in place, no eps output
                assertClose(drawn, tx.toArray(), 2e-6, 2e-6, "in-place q_sample on " + d.id());
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"1", "7", "93", "144", "100003"})
    void samplerStepsMatchDefinitionOnBothDevices(int n) {
        float[] x = randn(3, n), m = randn(4, n), m2 = randn(5, n), z = new float[n];
        Philox.normals(SEED, 41, 0, z, 0, n);
        float a = 0.98f, b = -0.31f, b2 = 0.125f, c = 0.2f;
        float p = 1.3f, q = -0.7f, lo = -1f, hi = 1f, dd = 0.05f;
        float[] one = new float[n], two = new float[n], clip = new float[n], det = new float[n];
        for (int i = 0; i < n; i++) {
            one[i] = a * x[i] + b * m[i] + c * z[i];
            two[i] = a * x[i] + b * m[i] + b2 * m2[i] + c * z[i];
            det[i] = a * x[i] + b * m[i];
            float x0 = Math.min(Math.max(p * x[i] + q * m[i], lo), hi);
            clip[i] = a * x[i] + b * x0 + dd * m[i] + c * z[i];
        }
        for (Device d : devices()) {
            try (Tensor tx = Tensor.of(d, x, n); Tensor tm = Tensor.of(d, m, n); Tensor tm2 = Tensor.of(d, m2, n);
                 Tensor out = Tensor.allocate(d, n)) {
                SamplerStep.step(out, tx, tm, a, b, c, SEED, 41);
                assertClose(one, out.toArray(), 2e-6, 2e-6, "step on " + d.id());
                SamplerStep.step(out, tx, tm, tm2, a, b, b2, c, SEED, 41);
                assertClose(two, out.toArray(), 2e-6, 2e-6, "two-term step on " + d.id());
                SamplerStep.step(out, tx, tm, a, b, 0, SEED, 41);
                assertClose(det, out.toArray(), 1e-6, 1e-6, "noise-free step on " + d.id());
                SamplerStep.stepClipX0(out, tx, tm, p, q, lo, hi, a, b, dd, c, SEED, 41);
                assertClose(clip, out.toArray(), 2e-6, 2e-6, "clipped-x0 step on " + d.id());
                SamplerStep.step(tx, tx, tm, a, b, c, SEED, 41); // in place
                assertClose(one, tx.toArray(), 2e-6, 2e-6, "in-place step on " + d.id());
            }
        }
    }

    @Test
    void badArgumentsAreExplained() {
        try (Tensor x = Tensor.allocate(TestDevices.java(), 4, 3); Tensor a = Tensor.allocate(TestDevices.java(), 3)) {
            var e = assertThrows(IllegalArgumentException.class, () -> QSample.apply(x, x, x, a, a));
            assertTrue(e.getMessage().contains("one value per sample"), e.getMessage());
            var e2 = assertThrows(IllegalArgumentException.class, () -> SamplerStep.step(x, x, x, null, 1, 1, 0.5, 0, 1, 1));
            assertTrue(e2.getMessage().contains("m2"), e2.getMessage());
            assertThrows(IllegalArgumentException.class, () -> SamplerStep.stepClipX0(x, x, x, 1, 1, 1, -1, 1, 1, 0, 0, 1, 1));
        }
    }

    private static Device[] devices() { return new Device[]{TestDevices.java(), TestDevices.openCl()}; }
}
