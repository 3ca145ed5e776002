package dev.diffuse.samplers.gmm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.samplers.metrics.MixtureStats;

/** Host math of the mixture in double: eigen, normalisation, score vs finite differences, closed forms, sampling. */
class GaussianMixtureTest {
    static final double[][] LEVELS = {{1, 0}, {1, 1e-3}, {0.8, 0.6}, {0.3, 0.95}, {1, 80}};

    static double[][] randomSymmetric(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) for (int j = 0; j <= i; j++) a[i][j] = a[j][i] = r.nextGaussian();
        return a;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 5, 16, 64, 128})
    void jacobiReconstructsAndIsOrthogonal(int n) {
        double[][] a = randomSymmetric(n, n);
        SymmetricEigen e = SymmetricEigen.of(a);
        double[][] r = e.reconstruct();
        double[][] u = e.vectors();
        double worst = 0, worstOrtho = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                worst = Math.max(worst, Math.abs(r[i][j] - a[i][j]));
                double dot = 0;
                for (int k = 0; k < n; k++) dot += u[k][i] * u[k][j];
                worstOrtho = Math.max(worstOrtho, Math.abs(dot - (i == j ? 1 : 0)));
            }
        assertTrue(worst < 1e-12 * n, "reconstruction error " + worst);
        assertTrue(worstOrtho < 1e-12 * n, "U^T U - I = " + worstOrtho);
    }

    @Test
    void rejectsInvalidParametersWithClearErrors() {
        double[][] mu = {{0, 0}};
        double[][][] id = {{{1, 0}, {0, 1}}};
        var e1 = assertThrows(IllegalArgumentException.class, () -> GaussianMixture.of(new double[]{0}, mu, id));
        assertTrue(e1.getMessage().contains("weight 0"), e1.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> GaussianMixture.of(new double[]{1}, mu, new double[][][]{{{1, 0.5}, {0.4, 1}}}));
        assertTrue(e2.getMessage().contains("not symmetric"), e2.getMessage());
        var e3 = assertThrows(IllegalArgumentException.class, () -> GaussianMixture.of(new double[]{1}, mu, new double[][][]{{{1, 2}, {2, 1}}}));
        assertTrue(e3.getMessage().contains("not positive definite"), e3.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GaussianMixture.of(new double[]{1, 1}, mu, id));
        assertThrows(IllegalArgumentException.class, () -> MixturePresets.ring8().logDensity(new double[]{1, 2, 3}));
    }

    @Test
    void densityIntegratesToOneIn1d() {
        GaussianMixture m = GaussianMixture.of(new double[]{0.2, 0.5, 0.3}, new double[][]{{-3}, {0.5}, {4}},
                new double[][][]{{{0.25}}, {{1.0}}, {{0.04}}});
        for (double[] lv : new double[][]{{1, 0}, {0.7, 0.5}}) {
            double h = 1e-3, sum = 0;
            for (double x = -30; x <= 30; x += h) sum += Math.exp(m.logDensity(new double[]{x}, lv[0], lv[1])) * h;
            assertEquals(1, sum, 1e-6, "1-D integral at s, sigma = " + lv[0] + ", " + lv[1]);
        }
    }

    @Test
    void densityIntegratesToOneIn2d() {
        for (GaussianMixture m : new GaussianMixture[]{MixturePresets.aniso2d(), MixturePresets.ring8()}) {
            double h = 0.02, sum = 0;
            for (double x = -9; x <= 9; x += h)
                for (double y = -9; y <= 9; y += h) sum += m.density(new double[]{x, y}) * h * h;
            assertEquals(1, sum, 1e-4, "2-D integral of " + m);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"ring8", "aniso2d", "gmm16d"})
    void scoreEqualsFiniteDifferenceOfLogDensityAtEveryLevel(String preset) {
        GaussianMixture m = MixturePresets.byName(preset);
        int d = m.dim();
        for (double[] lv : LEVELS) {
            float[] pts = m.noised(lv[0], lv[1]).sample(5, 7);
            for (int p = 0; p < 5; p++) {
                double[] x = new double[d];
                for (int i = 0; i < d; i++) x[i] = pts[p * d + i];
                double[] g = m.score(x, lv[0], lv[1]), fd = new double[d];
                double h = 1e-5 * Math.max(1, Math.sqrt(m.eigenvalues(0)[0] * lv[0] * lv[0] + lv[1] * lv[1]));
                for (int i = 0; i < d; i++) {
                    double[] xp = x.clone(), xm = x.clone();
                    xp[i] += h;
                    xm[i] -= h;
                    fd[i] = (m.logDensity(xp, lv[0], lv[1]) - m.logDensity(xm, lv[0], lv[1])) / (2 * h);
                }
                double scale = 0;
                for (double v : g) scale = Math.max(scale, Math.abs(v));
                Close.assertClose(fd, g, 1e-6 * Math.max(scale, 1e-3), 1e-6, preset + " score at s=" + lv[0] + " sigma=" + lv[1]);
            }
        }
    }

    @Test
    void densityGradientIsFiniteDifferenceOfDensity() {
        GaussianMixture m = MixturePresets.aniso2d();
        double[] x = {-1.7, -0.4};
        double[] g = m.densityGradient(x), fd = new double[2];
        for (int i = 0; i < 2; i++) {
            double[] xp = x.clone(), xm = x.clone();
            xp[i] += 1e-6;
            xm[i] -= 1e-6;
            fd[i] = (m.density(xp) - m.density(xm)) / 2e-6;
        }
        Close.assertClose(fd, g, 1e-9, 1e-6, "grad p");
    }

    /** One Gaussian: score_t(x) = -(s^2 Sigma + sigma^2 I)^-1 (x - s mu), solved here by Gauss-Jordan elimination. */
    @Test
    void singleGaussianNoisedScoreMatchesClosedForm() {
        int d = 6;
        double[][] a = randomSymmetric(d, 3), cov = new double[d][d];
        for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) {
            for (int k = 0; k < d; k++) cov[i][j] += a[i][k] * a[j][k] / d;
            if (i == j) cov[i][j] += 0.1;
        }
        double[] mu = {1, -2, 0.5, 3, 0, -1};
        GaussianMixture g = GaussianMixture.of(new double[]{1}, new double[][]{mu}, new double[][][]{cov});
        double[] x = {0.3, -1, 2, 2.5, -0.7, 0.1};
        for (double[] lv : LEVELS) {
            double s = lv[0], sg = lv[1];
            double[][] aug = new double[d][d + 1];
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) aug[i][j] = s * s * cov[i][j] + (i == j ? sg * sg : 0);
                aug[i][d] = -(x[i] - s * mu[i]);
            }
            for (int c = 0; c < d; c++) {
                int piv = c;
                for (int r = c + 1; r < d; r++) if (Math.abs(aug[r][c]) > Math.abs(aug[piv][c])) piv = r;
                double[] t = aug[c]; aug[c] = aug[piv]; aug[piv] = t;
                for (int r = 0; r < d; r++) {
                    if (r == c) continue;
                    double f = aug[r][c] / aug[c][c];
                    for (int k = c; k <= d; k++) aug[r][k] -= f * aug[c][k];
                }
            }
            double[] expected = new double[d];
            for (int i = 0; i < d; i++) expected[i] = aug[i][d] / aug[i][i];
            Close.assertClose(expected, g.score(x, s, sg), 1e-12, 1e-9, "single Gaussian at s=" + s + " sigma=" + sg);
        }
    }

    @Test
    void noisedMixtureAgreesWithNoisedEvaluation() {
        GaussianMixture m = MixturePresets.byName("gmm16d"), n = m.noised(0.6, 0.8);
        double[] x = new double[16];
        for (int i = 0; i < 16; i++) x[i] = 0.1 * i - 0.5;
        assertEquals(m.logDensity(x, 0.6, 0.8), n.logDensity(x), 1e-10);
        Close.assertClose(m.score(x, 0.6, 0.8), n.score(x), 1e-12, 1e-10, "noised score");
        Close.assertClose(m.responsibilities(x, 0.6, 0.8), n.responsibilities(x, 1, 0), 1e-12, 1e-10, "responsibilities");
    }

    @ParameterizedTest
    @ValueSource(strings = {"ring8", "aniso2d", "gmm16d"})
    void exactSamplesHaveTheRightMomentsAndOccupancy(String preset) {
        GaussianMixture m = MixturePresets.byName(preset);
        int d = m.dim(), n = 20_000;
        float[] x = m.sample(n, 11);
        double[] mean = MixtureStats.mean(x, d), trueMean = m.mean();
        double[][] cov = MixtureStats.covariance(x, d), trueCov = m.covariance();
        double[] se = MixtureStats.meanStandardErrors(trueCov, n);
        for (int i = 0; i < d; i++) assertEquals(trueMean[i], mean[i], 4.5 * se[i], preset + " mean[" + i + "]");
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) {
                // Gaussian SE of a covariance entry, inflated for the mixture's non-Gaussian fourth moments
                double seCov = Math.sqrt((trueCov[i][i] * trueCov[j][j] + trueCov[i][j] * trueCov[i][j]) / n);
                assertEquals(trueCov[i][j], cov[i][j], 6 * seCov, preset + " cov[" + i + "][" + j + "]");
            }
        int[] comp = m.sampleComponents(n, 11, 0);
        int[] counts = new int[m.components()];
        for (int c : comp) counts[c]++;
        for (int c = 0; c < counts.length; c++) {
            double w = m.weight(c);
            assertEquals(w, counts[c] / (double) n, 4.5 * Math.sqrt(w * (1 - w) / n), preset + " component " + c);
        }
    }

    @Test
    void samplingIsPrefixStableAndTheTensorVariantMatches() {
        GaussianMixture m = MixturePresets.aniso2d();
        float[] a = m.sample(100, 5), b = m.sample(37, 5), c = m.sample(63, 5, 37);
        for (int i = 0; i < b.length; i++) assertEquals(a[i], b[i]);
        for (int i = 0; i < c.length; i++) assertEquals(a[b.length + i], c[i]);
        try (Tensor t = Tensor.allocate(JavaDevice.get(), 100, 2)) {
            m.sample(t, 5);
            assertArrayEquals(a, t.toArray());
        }
    }

    @Test
    void conditionalKeepsOneClassWithRenormalisedWeights() {
        GaussianMixture m = GaussianMixture.isotropic(new double[]{1, 2, 3}, new double[][]{{0}, {5}, {10}},
                new double[]{1, 1, 1}, new int[]{7, 9, 7});
        GaussianMixture c = m.conditional(7);
        assertEquals(2, c.components());
        assertEquals(0.25, c.weight(0), 1e-15);
        assertEquals(0.75, c.weight(1), 1e-15);
        assertEquals(10, c.mean(1)[0]);
        assertArrayEquals(new int[]{7, 9}, m.labels());
        var e = assertThrows(IllegalArgumentException.class, () -> m.conditional(3));
        assertTrue(e.getMessage().contains("[7, 9]"), e.getMessage());
    }

    @Test
    void presetsByNameAndErrors() {
        for (String name : MixturePresets.names()) assertTrue(MixturePresets.byName(name).dim() >= 2);
        assertEquals(64, MixturePresets.byName("gmm64d").dim());
        assertEquals(8, MixturePresets.defaultPreset().components());
        var e = assertThrows(IllegalArgumentException.class, () -> MixturePresets.byName("ring9"));
        assertTrue(e.getMessage().contains("ring8") && e.getMessage().contains("gmm64d"), e.getMessage());
    }
}
