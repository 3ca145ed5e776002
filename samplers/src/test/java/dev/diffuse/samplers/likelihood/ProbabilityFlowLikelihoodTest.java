package dev.diffuse.samplers.likelihood;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.gmm.GaussianMixture;
import dev.diffuse.samplers.gmm.GaussianMixtureDenoiser;
import dev.diffuse.samplers.gmm.MixturePresets;
import dev.diffuse.samplers.schedule.VpSde;

/** The probability-flow likelihood against the mixture's exact log-density at t_end. */
class ProbabilityFlowLikelihoodTest {

    static float[] estimate(GaussianMixture m, float[] x, int n, ProbabilityFlowLikelihood.Trace trace, Device dev, Denoiser.Prediction p) {
        return estimate(new ProbabilityFlowLikelihood(VpSde.standard(), 400, trace), m, x, n, dev, p);
    }

    static float[] estimate(ProbabilityFlowLikelihood lik, GaussianMixture m, float[] x, int n, Device dev, Denoiser.Prediction p) {
        try (var den = new GaussianMixtureDenoiser(m, dev, p); Workspace ws = new Workspace(dev, "likelihood", 64 << 20)) {
            Tensor x0 = ws.tensor(n, m.dim()), out = ws.tensor(n);
            x0.upload(x);
            lik.logDensity(out, den, x0, 3, ws);
            return out.toArray();
        }
    }

    static double[] exact(GaussianMixture m, float[] x, int n) {
        var sde = VpSde.standard();
        double s = sde.scale(sde.tEnd()), sg = sde.sigma(sde.tEnd());
        double[] e = new double[n];
        for (int r = 0; r < n; r++) {
            double[] row = new double[m.dim()];
            for (int j = 0; j < m.dim(); j++) row[j] = x[r * m.dim() + j];
            e[r] = m.logDensity(row, s, sg);
        }
        return e;
    }

    @ParameterizedTest
    @ValueSource(strings = {"aniso2d", "ring8"})
    void exactTraceMatchesTheExactLogDensity(String preset) {
        GaussianMixture m = MixturePresets.byName(preset);
        int n = 200;
        float[] x = m.sample(n, 17);
        float[] est = estimate(m, x, n, ProbabilityFlowLikelihood.Trace.EXACT, TestDevices.openCl(), Denoiser.Prediction.EPSILON);
        double[] ex = exact(m, x, n);
        double worst = 0;
        for (int r = 0; r < n; r++) worst = Math.max(worst, Math.abs(est[r] - ex[r]));
        // 400 Heun steps uniform in t, float evaluation: measured worst errors 0.005 (aniso2d) and 0.001 (ring8) nats.
        assertTrue(worst < 0.02, "worst |log p estimate - exact| = " + worst + " nats");
    }

    @ParameterizedTest
    @ValueSource(strings = {"aniso2d", "gmm16d"})
    void aSqrtTimeGridIsAccurateWithFewerSteps(String preset) {
        GaussianMixture m = MixturePresets.byName(preset);
        int n = 100;
        float[] x = m.sample(n, 23);
        double[] ex = exact(m, x, n);
        double[] worst = new double[2];
        int steps = Integer.getInteger("lik.steps", 40);
        for (var g : ProbabilityFlowLikelihood.Grid.values()) {
            var lik = new ProbabilityFlowLikelihood(VpSde.standard(), steps, ProbabilityFlowLikelihood.Trace.EXACT, g);
            float[] est = estimate(lik, m, x, n, TestDevices.java(), Denoiser.Prediction.EPSILON);
            for (int r = 0; r < n; r++) worst[g.ordinal()] = Math.max(worst[g.ordinal()], Math.abs(est[r] - ex[r]));
        }
        System.out.printf("likelihood %s, %d Heun steps: worst error uniform grid %.4f, sqrt grid %.4f nats%n", preset, steps, worst[0], worst[1]);
        // measured at 40 steps: aniso2d 0.031 uniform / 0.010 sqrt, gmm16d 0.17 / 0.041
        assertTrue(worst[1] < 0.08, "sqrt grid worst error " + worst[1]);
        assertTrue(worst[1] < 0.6 * worst[0], "the sqrt grid should beat the uniform one: " + worst[1] + " vs uniform " + worst[0]);
    }

    @Test
    void hutchinsonIsUnbiasedAroundTheExactValue() {
        GaussianMixture m = MixturePresets.aniso2d();
        int n = 2000;
        float[] x = m.sample(n, 21);
        float[] est = estimate(m, x, n, ProbabilityFlowLikelihood.Trace.HUTCHINSON, TestDevices.openCl(), Denoiser.Prediction.EPSILON);
        double[] ex = exact(m, x, n);
        double mean = 0, sq = 0;
        for (int r = 0; r < n; r++) {
            double d = est[r] - ex[r];
            mean += d;
            sq += d * d;
        }
        mean /= n;
        double se = Math.sqrt((sq / n - mean * mean) / n);
        assertEquals(0, mean, 5 * se + 0.03, "mean Hutchinson error (standard error " + se + ")");
        assertTrue(se > 0, "a stochastic estimate has spread");
    }

    @Test
    void javaAndOpenClAgreeAndPredictionTypeDoesNotMatter() {
        GaussianMixture m = MixturePresets.aniso2d();
        int n = 33;
        float[] x = m.sample(n, 5);
        float[] cl = estimate(m, x, n, ProbabilityFlowLikelihood.Trace.HUTCHINSON, TestDevices.openCl(), Denoiser.Prediction.EPSILON);
        float[] java = estimate(m, x, n, ProbabilityFlowLikelihood.Trace.HUTCHINSON, TestDevices.java(), Denoiser.Prediction.EPSILON);
        Close.assertClose(java, cl, 2e-3, 1e-3, "Java vs OpenCL log p");
        float[] score = estimate(m, x, n, ProbabilityFlowLikelihood.Trace.HUTCHINSON, TestDevices.java(), Denoiser.Prediction.SCORE);
        Close.assertClose(java, score, 2e-3, 1e-3, "epsilon vs score parameterisation");
    }

    @Test
    void vjpMatchesFiniteDifferencesOfThePrediction() {
        GaussianMixture m = MixturePresets.aniso2d();
        int n = 5, d = 2;
        float[] x = m.sample(n, 9), v = Close.randn(4, n * d);
        Denoiser.NoiseLevel level = new Denoiser.NoiseLevel(0.9, Math.sqrt(1 - 0.81), 0);
        try (var den = new GaussianMixtureDenoiser(m, TestDevices.java(), Denoiser.Prediction.EPSILON);
             var cl = new GaussianMixtureDenoiser(m, TestDevices.openCl(), Denoiser.Prediction.EPSILON)) {
            double[] fd = new double[n * d];
            for (int r = 0; r < n; r++)
                for (int j = 0; j < d; j++) {
                    // (J^T v)_j = sum_i v_i d m_i / d x_j, by central differences of the double-precision score
                    double[] xp = {x[r * d], x[r * d + 1]}, xm = xp.clone();
                    double hh = 1e-5;
                    xp[j] += hh;
                    xm[j] -= hh;
                    double[] sp = m.score(xp, level.scale(), level.sigma()), sm = m.score(xm, level.scale(), level.sigma());
                    for (int i = 0; i < d; i++) fd[r * d + j] += v[r * d + i] * -level.sigma() * (sp[i] - sm[i]) / (2 * hh);
                }
            for (var dn : new GaussianMixtureDenoiser[]{den, cl}) {
                try (Tensor tx = Tensor.of(dn.device(), x, n, d); Tensor tv = Tensor.of(dn.device(), v, n, d); Tensor out = Tensor.allocate(dn.device(), n, d)) {
                    dn.vjp(out, tx, level, tv);
                    float[] got = out.toArray();
                    double[] g = new double[got.length];
                    for (int i = 0; i < g.length; i++) g[i] = got[i];
                    Close.assertClose(fd, g, 1e-4, 1e-4, "vjp on " + dn.device().id());
                }
            }
        }
    }
}
