package dev.diffuse.samplers.guidance;

import static dev.diffuse.runtime.Close.assertClose;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.Denoiser.NoiseLevel;
import dev.diffuse.samplers.Denoiser.Prediction;
import dev.diffuse.samplers.Samplers;
import dev.diffuse.samplers.gmm.GaussianMixture;
import dev.diffuse.samplers.gmm.GaussianMixtureDenoiser;
import dev.diffuse.samplers.metrics.MixtureStats;

/** The conditional mixture denoiser and classifier-free guidance on exact Gaussian mixtures. */
class GuidanceMixtureTest {
    static final int N = 4000;

    /** ring8 with two classes: even modes class 0, odd modes class 1 (well separated). */
    static GaussianMixture ringTwoClasses() {
        int k = 8;
        double[][] mu = new double[k][];
        double[] w = new double[k], std = new double[k];
        int[] lab = new int[k];
        for (int c = 0; c < k; c++) {
            double a = 2 * Math.PI * c / k;
            mu[c] = new double[]{4 * Math.cos(a), 4 * Math.sin(a)};
            w[c] = 1 + 0.1 * c;
            std[c] = 0.3;
            lab[c] = c % 2;
        }
        return GaussianMixture.isotropic(w, mu, std, lab);
    }

    /** Overlapping classes: class 0 = two tight modes at (+-2, 0), class 1 = one broad mode over both. */
    static GaussianMixture overlapping() {
        return GaussianMixture.isotropic(new double[]{0.25, 0.25, 0.5}, new double[][]{{-2, 0}, {2, 0}, {0, 0}},
                new double[]{0.5, 0.5, 2.5}, new int[]{0, 0, 1});
    }

    static float[] points(int n) {
        float[] x = Close.randn(3, 2 * n);
        for (int i = 0; i < x.length; i++) x[i] *= 3;
        return x;
    }

    /** fixed(c) is GaussianMixtureDenoiser of conditional(c) (null: the whole mixture), Java and OpenCL. */
    @ParameterizedTest
    @EnumSource(Prediction.class)
    void conditionalMatchesTheSubMixture(Prediction p) {
        GaussianMixture m = ringTwoClasses();
        NoiseLevel level = new NoiseLevel(0.8, 0.6, 0);
        int n = 257;
        float[] x = points(n);
        for (int label : new int[]{ConditionalDenoiser.NULL_LABEL, 0, 1}) {
            GaussianMixture target = label < 0 ? m : m.conditional(label);
            float[] want;
            try (var ref = new GaussianMixtureDenoiser(target, TestDevices.java(), p); Tensor tx = Tensor.of(TestDevices.java(), x, n, 2);
                 Tensor out = Tensor.allocate(TestDevices.java(), n, 2)) {
                ref.predict(out, tx, level);
                want = out.toArray();
            }
            for (Device d : List.of(TestDevices.java(), TestDevices.openCl())) {
                try (var den = new ConditionalMixtureDenoiser(m, d, p); Tensor tx = Tensor.of(d, x, n, 2); Tensor out = Tensor.allocate(d, n, 2)) {
                    den.fixed(label).predict(out, tx, level);
                    assertClose(want, out.toArray(), 2e-4, 2e-4, p + " label " + label + " on " + d.id());
                }
            }
        }
    }

    /** At s = 0 (pure noise) the posterior mean is the class mean: X0 = mean_c, VELOCITY = mean_c - x (sigma = 1). */
    @Test
    void finiteAtPureNoise() {
        GaussianMixture m = ringTwoClasses();
        double[] mean0 = m.conditional(0).mean();
        float[] x = {0.3f, -0.7f, 1.5f, 2f};
        for (Device d : List.of(TestDevices.java(), TestDevices.openCl())) {
            try (var den = new ConditionalMixtureDenoiser(m, d, Prediction.VELOCITY); Tensor tx = Tensor.of(d, x, 2, 2);
                 Tensor out = Tensor.allocate(d, 2, 2)) {
                den.fixed(0).predict(out, tx, new NoiseLevel(0, 1, 0));
                float[] want = new float[4];
                for (int i = 0; i < 4; i++) want[i] = (float) (mean0[i % 2] - x[i]);
                assertClose(want, out.toArray(), 1e-5, 1e-5, "velocity at t = 0 on " + d.id());
            }
        }
    }

    /** Rows with different labels in one launch equal the separate evaluations; the CFG batch equals two evaluations. */
    @Test
    void batchedEqualsSeparate() {
        GaussianMixture m = ringTwoClasses();
        int b = 37;
        float[] x = points(b);
        int[] labels = new int[b];
        for (int i = 0; i < b; i++) labels[i] = i % 2;
        NoiseLevel level = new NoiseLevel(0.7, 0.71, 0);
        double w = 2.5;
        for (Device d : List.of(TestDevices.java(), TestDevices.openCl())) {
            try (var den = new ConditionalMixtureDenoiser(m, d, Prediction.EPSILON); Tensor tx = Tensor.of(d, x, b, 2);
                 Tensor c0 = Tensor.allocate(d, b, 2); Tensor c1 = Tensor.allocate(d, b, 2); Tensor un = Tensor.allocate(d, b, 2);
                 Tensor out = Tensor.allocate(d, b, 2)) {
                den.fixed(0).predict(c0, tx, level);
                den.fixed(1).predict(c1, tx, level);
                den.fixed(ConditionalDenoiser.NULL_LABEL).predict(un, tx, level);
                float[] a0 = c0.toArray(), a1 = c1.toArray(), au = un.toArray(), want = new float[2 * b];
                for (int i = 0; i < 2 * b; i++) {
                    float c = labels[i / 2] == 0 ? a0[i] : a1[i];
                    want[i] = (float) ((1 + w) * c - w * au[i]);
                }
                try (var cfg = new ClassifierFreeGuidance(den, d, labels, w, 0)) {
                    cfg.predict(out, tx, level);
                    assertClose(want, out.toArray(), 1e-5, 1e-5, "CFG batch vs separate on " + d.id());
                    cfg.predict(out, tx, level); // scratch reused
                    assertClose(want, out.toArray(), 1e-5, 1e-5, "second call on " + d.id());
                }
            }
        }
    }

    static float[] sampleGuided(GaussianMixture m, int label, double w, double phi, Device d, int n) {
        var s = Samplers.create("ddim", Samplers.Options.defaults(200));
        int[] labels = new int[n];
        Arrays.fill(labels, label);
        try (var den = new ConditionalMixtureDenoiser(m, d, Prediction.EPSILON); var cfg = new ClassifierFreeGuidance(den, d, labels, w, phi);
             Workspace ws = new Workspace(d, "cfg", 16L << 20)) {
            return s.sample(cfg, ws, 7, n, m.dim()).toArray();
        }
    }

    /** w = 0: samples follow p(x | c): its mean exact log-density, its mode weights, no sample on the other class. */
    @Test
    void zeroGuidanceSamplesTheConditional() {
        GaussianMixture m = ringTwoClasses();
        for (int label : new int[]{0, 1}) {
            GaussianMixture cond = m.conditional(label);
            float[] x = sampleGuided(m, label, 0, 0, TestDevices.openCl(), N);
            var gen = MixtureStats.meanLogDensity(cond, x);
            var exact = MixtureStats.exactMeanLogDensity(cond, 20000, 5);
            assertEquals(exact.mean(), gen.mean(), 5 * Math.hypot(gen.standardError(), exact.standardError()) + 0.06, "class " + label);
            assertTrue(MixtureStats.occupancy(cond, x).chiSquare() < 16.27, "occupancy of class " + label + "'s 4 modes (chi2, 3 dof, p = 0.001)");
            int[] counts = MixtureStats.occupancy(m, x).counts();
            for (int c = 0; c < 8; c++) if (m.label(c) != label) assertEquals(0, counts[c], "samples on mode " + c + " of the other class");
        }
    }

    /** Growing w concentrates samples of class 0 on its modes: other-class occupancy falls, log p(x|c) rises, spread shrinks. */
    @Test
    void guidanceConcentratesOnTheClass() {
        GaussianMixture m = overlapping(), cond = m.conditional(0);
        double prevOther = 1, prevLog = Double.NEGATIVE_INFINITY, prevSpread = Double.POSITIVE_INFINITY;
        for (double w : new double[]{0, 1, 4}) {
            float[] x = sampleGuided(m, 0, w, 0, TestDevices.openCl(), N);
            double other = MixtureStats.occupancy(m, x).fraction()[2];
            double logc = MixtureStats.meanLogDensity(cond, x).mean();
            double spread = 0;
            for (int i = 0; i < N; i++) {
                double dx = Math.abs(x[2 * i]) - 2, dy = x[2 * i + 1];
                spread += dx * dx + dy * dy;
            }
            spread /= N;
            assertTrue(other < prevOther, "w = " + w + ": share on the other class's mode " + other + " not below " + prevOther);
            assertTrue(logc > prevLog, "w = " + w + ": mean log p(x|c) " + logc + " not above " + prevLog);
            assertTrue(spread < prevSpread, "w = " + w + ": spread " + spread + " not below " + prevSpread);
            prevOther = other;
            prevLog = logc;
            prevSpread = spread;
        }
        assertTrue(prevOther < 0.01, "at w = 4 almost no sample lies on the other class: " + prevOther);
        // the exact class-0 spread is 2 * 0.25 = 0.5; at w = 0 the samples match it within sampling error
    }

    /**
     * Same seed, two devices, with rescale: the guided samples agree sample by sample. In 16-D: with 2 values per sample
     * the std ratio |c1 - c2| / |g1 - g2| is ill-conditioned and float differences between devices blow up.
     */
    @Test
    void rescaledGuidanceJavaEqualsOpenCl() {
        GaussianMixture m = dev.diffuse.samplers.gmm.MixturePresets.byName("gmm16d");
        float[] a = sampleGuided(m, 0, 3, 0.7, TestDevices.java(), 64), b = sampleGuided(m, 0, 3, 0.7, TestDevices.openCl(), 64);
        assertClose(a, b, 1e-3, 1e-3, "CFG rescale samples, Java vs OpenCL");
        var e = assertThrows(IllegalArgumentException.class, () -> sampleGuided(m, 9, 1, 0, TestDevices.java(), 4));
        assertTrue(e.getMessage().contains("label 9"), e.getMessage());
    }
}
