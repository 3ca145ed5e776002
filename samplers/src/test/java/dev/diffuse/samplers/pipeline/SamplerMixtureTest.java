package dev.diffuse.samplers.pipeline;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.Samplers;
import dev.diffuse.samplers.gmm.GaussianMixture;
import dev.diffuse.samplers.gmm.GaussianMixtureDenoiser;
import dev.diffuse.samplers.gmm.MixturePresets;
import dev.diffuse.samplers.metrics.MixtureStats;
import dev.diffuse.samplers.metrics.SlicedWasserstein;

/**
 * Every sampler against the exact Gaussian-mixture presets, measured as ../shared/MEASURING-SAMPLERS.md says:
 * low-variance statistics (mean exact log-density, mode occupancy) with their standard errors, sliced-W2 only
 * beside its exact-vs-exact floor, and solver orders from a fixed x_T where no sampling noise enters.
 * Runs on the OpenCL device (the Gaussian-mixture kernel); CI runs it on PoCL.
 */
class SamplerMixtureTest {
    static final int N = 4000, REF = 20_000;

    static float[] sample(String name, int steps, GaussianMixture m, Device dev, long seed, int n) {
        double sigmaMax = m.dim() > 2 ? 40 : 20;
        Sampler s = Samplers.create(name, Samplers.Options.defaults(steps).withSigmaMax(sigmaMax));
        try (var den = new GaussianMixtureDenoiser(m, dev, Samplers.preferredPrediction(name));
             Workspace ws = new Workspace(dev, name, 64L << 20)) {
            return s.sample(den, ws, seed, n, m.dim()).toArray();
        }
    }

    /**
     * At enough steps each sampler matches the mixture: mean exact log-density within 5 standard errors plus a stated
     * tolerance (0.06 nats; 0.2 for annealed Langevin, whose smallest levels do not equilibrate at 200 steps a level),
     * mode occupancy by chi-square at p = 0.001, and sliced-W2 below twice the exact-vs-exact floor.
     */
    @ParameterizedTest(name = "{0} {1} steps on {2}")
    @CsvSource({
            "ddpm, 1000, ring8", "ddim, 200, ring8", "sde-vp, 1000, ring8", "sde-ve, 1000, ring8", "ode-euler, 500, ring8",
            "ode-heun, 100, ring8", "ode-euler-ve, 1000, ring8", "ode-heun-ve, 200, ring8", "annealed-langevin, 2000, ring8",
            "ddpm, 1000, aniso2d", "ddim, 200, aniso2d", "sde-vp, 1000, aniso2d", "sde-ve, 1000, aniso2d", "ode-euler, 500, aniso2d",
            "ode-heun, 100, aniso2d", "ode-heun-ve, 200, aniso2d", "annealed-langevin, 2000, aniso2d",
            "ddim, 200, gmm16d", "ode-heun, 100, gmm16d", "sde-vp, 500, gmm16d"})
    void enoughStepsMatchTheMixture(String name, int steps, String preset) {
        GaussianMixture m = MixturePresets.byName(preset);
        float[] x = sample(name, steps, m, TestDevices.openCl(), 1, N);
        var gen = MixtureStats.meanLogDensity(m, x);
        var exact = MixtureStats.exactMeanLogDensity(m, REF, 5);
        double se = Math.hypot(gen.standardError(), exact.standardError());
        double tol = name.equals("annealed-langevin") ? 0.2 : 0.06;
        assertEquals(exact.mean(), gen.mean(), 5 * se + tol, name + ": mean exact log-density of the samples");
        var occ = MixtureStats.occupancy(m, x);
        double critical = chiSquareCritical001(m.components() - 1);
        assertTrue(occ.chiSquare() < critical, name + ": mode occupancy chi-square " + occ.chiSquare() + " >= " + critical);
        double sw2 = SlicedWasserstein.sw2(x, m.sample(REF, 99), m.dim());
        double floor = SlicedWasserstein.exactFloor(m, N, REF, SlicedWasserstein.DEFAULT_DIRECTIONS, 3);
        assertTrue(sw2 < 2 * floor, name + ": sliced-W2 " + sw2 + " not below twice the exact floor " + floor);
    }

    /** Chi-square critical values at p = 0.001 for 1..7 degrees of freedom. */
    static double chiSquareCritical001(int dof) {
        double[] c = {10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32};
        return c[dof - 1];
    }

    /** RMS distance of endpoints from the same x_T (no sampling noise): the deterministic solver error. */
    static double endpointError(String name, int steps, float[] reference) {
        float[] x = sample(name, steps, MixturePresets.ring8(), TestDevices.openCl(), 11, 1000);
        double e = 0;
        for (int i = 0; i < x.length; i++) e += (x[i] - reference[i]) * (x[i] - reference[i]);
        return Math.sqrt(e / x.length);
    }

    @Test
    void deterministicErrorFallsWithStepsAtTheMethodsOrderAndHeunBeatsEuler() {
        float[] ref = sample("ode-heun", 2000, MixturePresets.ring8(), TestDevices.openCl(), 11, 1000);
        double[] e = new double[3], h = new double[3];
        for (int i = 0; i < 3; i++) {
            e[i] = endpointError("ode-euler", 40 << i, ref);
            h[i] = endpointError("ode-heun", 40 << i, ref);
        }
        for (int i = 0; i < 2; i++) {
            assertTrue(e[i + 1] < e[i], "Euler error falls: " + java.util.Arrays.toString(e));
            assertTrue(h[i + 1] < h[i], "Heun error falls: " + java.util.Arrays.toString(h));
            assertTrue(h[i] < e[i], "Heun beats Euler at equal steps: " + java.util.Arrays.toString(h) + " vs " + java.util.Arrays.toString(e));
        }
        double pe = Math.log(e[1] / e[2]) / Math.log(2), ph = Math.log(h[1] / h[2]) / Math.log(2);
        assertEquals(1.0, pe, 0.3, "Euler's empirical order, errors " + java.util.Arrays.toString(e));
        assertTrue(ph > 1.6, "Heun's empirical order " + ph + ", errors " + java.util.Arrays.toString(h));
    }

    @Test
    void ddimErrorFallsWithStepsTowardsItsFullSchedule() {
        float[] ref = sample("ddim", 1000, MixturePresets.ring8(), TestDevices.openCl(), 11, 1000);
        double prev = Double.MAX_VALUE;
        for (int steps : new int[]{10, 50, 250}) {
            double err = endpointError("ddim", steps, ref);
            assertTrue(err < prev, "DDIM endpoint error at " + steps + " steps (" + err + ") should be below " + prev);
            prev = err;
        }
    }

    /** Stochastic samplers: the log-density gap with few steps is larger than with many, by more than the noise. */
    @ParameterizedTest
    @ValueSource(strings = {"ddpm", "sde-vp", "sde-ve"})
    void stochasticSamplersImproveWithSteps(String name) {
        GaussianMixture m = MixturePresets.aniso2d();
        var exact = MixtureStats.exactMeanLogDensity(m, REF, 5);
        var coarse = MixtureStats.meanLogDensity(m, sample(name, 10, m, TestDevices.openCl(), 2, N));
        var fine = MixtureStats.meanLogDensity(m, sample(name, 1000, m, TestDevices.openCl(), 2, N));
        double gapCoarse = Math.abs(coarse.mean() - exact.mean()), gapFine = Math.abs(fine.mean() - exact.mean());
        double se = Math.hypot(coarse.standardError(), fine.standardError());
        assertTrue(gapCoarse > gapFine + 3 * se, name + ": log-density gap " + gapCoarse + " at 10 steps vs " + gapFine + " at 1000");
    }

    @Test
    void ulaMatchesTheMeanAndCovarianceOfACorrelatedGaussian() {
        double[][] cov = {{1.0, 0.6}, {0.6, 0.5}};
        GaussianMixture g = GaussianMixture.of(new double[]{1}, new double[][]{{2, -1}}, new double[][][]{cov});
        double eps = 0.02;
        Sampler s = new LangevinSampler(600, eps, 1);
        float[] x;
        try (var den = new GaussianMixtureDenoiser(g, TestDevices.openCl(), Denoiser.Prediction.SCORE);
             Workspace ws = new Workspace(TestDevices.openCl(), "ula", 16 << 20)) {
            x = s.sample(den, ws, 4, 20_000, 2).toArray();
        }
        double[] mean = MixtureStats.mean(x, 2);
        double[][] c = MixtureStats.covariance(x, 2);
        // ULA's stationary covariance is C = (I - eps P) C (I - eps P) + 2 eps I with P = Sigma^-1: in Sigma's eigenbasis
        // each eigenvalue lambda becomes lambda / (1 - eps / (2 lambda)); that is at most 2% here, checked exactly below.
        var eig = dev.diffuse.samplers.gmm.SymmetricEigen.of(cov);
        double[][] expect = new double[2][2];
        for (int k = 0; k < 2; k++) {
            double l = eig.values()[k], lb = l / (1 - eps / (2 * l));
            for (int i = 0; i < 2; i++) for (int j = 0; j < 2; j++) expect[i][j] += lb * eig.vectors()[i][k] * eig.vectors()[j][k];
        }
        int n = 20_000;
        for (int i = 0; i < 2; i++) {
            assertEquals(i == 0 ? 2 : -1, mean[i], 5 * Math.sqrt(expect[i][i] / n), "mean[" + i + "]");
            for (int j = 0; j < 2; j++) {
                double se = Math.sqrt((expect[i][j] * expect[i][j] + expect[i][i] * expect[j][j]) / n);
                assertEquals(expect[i][j], c[i][j], 5 * se, "cov[" + i + "][" + j + "]");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"ddpm", "ddim", "sde-vp", "sde-ve", "ode-euler", "ode-heun", "ode-heun-ve", "langevin", "annealed-langevin"})
    void javaAndOpenClGiveTheSameSamplesForTheSameSeed(String name) {
        GaussianMixture m = MixturePresets.aniso2d();
        float[] j = sample(name, 20, m, TestDevices.java(), 8, 257), c = sample(name, 20, m, TestDevices.openCl(), 8, 257);
        // Java evaluates the mixture in double, OpenCL in float: a few 1e-5 after 20-40 steps
        Close.assertClose(j, c, 5e-4, 5e-4, name + " Java vs OpenCL");
    }
}
