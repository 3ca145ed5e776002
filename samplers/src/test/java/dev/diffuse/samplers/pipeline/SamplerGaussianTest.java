package dev.diffuse.samplers.pipeline;

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
import dev.diffuse.samplers.ExactGaussianDenoiser;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.Samplers;

/**
 * Every sampler on a Gaussian target N(mu, diag(v)), whose noised score is exact: sample moments against the
 * target within a few standard errors (low-variance statistics, see MEASURING-SAMPLERS.md), deterministic solver
 * order from a fixed x_T, Java vs OpenCL sample by sample.
 */
class SamplerGaussianTest {
    static final double[] MU = {1.5, -0.5}, V = {0.25, 2.0};
    static final int N = 20_000;

    static double[][] moments(float[] x, int d) {
        int n = x.length / d;
        double[] m = new double[d], var = new double[d];
        for (int i = 0; i < x.length; i++) m[i % d] += x[i];
        for (int j = 0; j < d; j++) m[j] /= n;
        for (int i = 0; i < x.length; i++) var[i % d] += (x[i] - m[i % d]) * (x[i] - m[i % d]);
        for (int j = 0; j < d; j++) var[j] /= n - 1;
        return new double[][]{m, var};
    }

    static float[] run(Sampler s, Denoiser den, Device d, long seed, int n) {
        try (Workspace ws = new Workspace(d, s.name(), 64L << 20)) {
            return s.sample(den, ws, seed, n, MU.length).toArray();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"ddpm", "ddim", "sde-vp", "sde-ve", "ode-euler", "ode-heun", "ode-euler-ve", "ode-heun-ve", "annealed-langevin"})
    void samplesHaveTheTargetMoments(String name) {
        // Euler on VE spans ln(sigma_max / sigma_min) = 9.2 in log-sigma: it needs more steps than VP for 2%.
        int steps = name.startsWith("ode-heun") ? 250 : name.equals("ode-euler-ve") ? 2000 : name.equals("annealed-langevin") ? 1000 : 500;
        // VE starts from N(0, sigma_max^2) instead of N(mu, v + sigma_max^2): that prior mismatch survives the ODE as a
        // mean error of mu sqrt(v / (v + sigma_max^2)), so sigma_max must be large against |mu|.
        Sampler s = Samplers.create(name, Samplers.Options.defaults(steps).withSigmaMax(100));
        var den = new ExactGaussianDenoiser(MU, V, Samplers.preferredPrediction(name));
        double[][] mv = moments(run(s, den, TestDevices.java(), 7, N), MU.length);
        for (int j = 0; j < MU.length; j++) {
            double seMean = Math.sqrt(V[j] / N), seVar = V[j] * Math.sqrt(2.0 / N);
            // 5 standard errors plus a discretisation allowance of 2% of the scale
            assertEquals(MU[j], mv[0][j], 5 * seMean + 0.02 * Math.sqrt(V[j]), name + " mean[" + j + "]");
            // Annealed Langevin's step alpha_i = 0.2 sigma_i^2 relaxes in ~10 (v / sigma_i^2 + 1) steps: with 100 steps a
            // level it stops tracking once sigma_i < ~0.15 and keeps ~v + 0.03 (derivation in the sampler's docs).
            double allowance = name.equals("annealed-langevin") ? 0.15 : 0.02;
            assertEquals(V[j], mv[1][j], 5 * seVar + allowance * V[j], name + " var[" + j + "]");
        }
    }

    @Test
    void ulaStationaryVarianceIsTheKnownBiasedValue() {
        double eps = 0.05;
        Sampler s = new LangevinSampler(400, eps, 1);
        var den = new ExactGaussianDenoiser(MU, V, Denoiser.Prediction.SCORE);
        double[][] mv = moments(run(s, den, TestDevices.java(), 3, N), MU.length);
        for (int j = 0; j < MU.length; j++) {
            // x' = x - eps (x - mu)/v + sqrt(2 eps) z has stationary variance v / (1 - eps / (2 v))
            double stationary = V[j] / (1 - eps / (2 * V[j]));
            assertEquals(MU[j], mv[0][j], 5 * Math.sqrt(stationary / N), "mean");
            assertEquals(stationary, mv[1][j], 5 * stationary * Math.sqrt(2.0 / N), "variance");
        }
    }

    /** RMS distance of the ODE endpoint from a 4000-step Heun solution from the same x_T. */
    static double odeError(String name, int steps, float[] reference) {
        Sampler s = Samplers.create(name, Samplers.Options.defaults(steps));
        var den = new ExactGaussianDenoiser(MU, V, Denoiser.Prediction.EPSILON);
        float[] x = run(s, den, TestDevices.java(), 11, 2000);
        double e = 0;
        for (int i = 0; i < x.length; i++) e += (x[i] - reference[i]) * (x[i] - reference[i]);
        return Math.sqrt(e / x.length);
    }

    @Test
    void eulerIsFirstOrderAndHeunSecondOrderAndHeunBeatsEuler() {
        var den = new ExactGaussianDenoiser(MU, V, Denoiser.Prediction.EPSILON);
        float[] ref = run(Samplers.create("ode-heun", Samplers.Options.defaults(4000)), den, TestDevices.java(), 11, 2000);
        double e1 = odeError("ode-euler", 20, ref), e2 = odeError("ode-euler", 40, ref), e3 = odeError("ode-euler", 80, ref);
        double h1 = odeError("ode-heun", 20, ref), h2 = odeError("ode-heun", 40, ref), h3 = odeError("ode-heun", 80, ref);
        double pe = Math.log(e2 / e3) / Math.log(2), ph = Math.log(h2 / h3) / Math.log(2);
        assertTrue(e1 > e2 && e2 > e3, "euler error falls: " + e1 + " " + e2 + " " + e3);
        assertTrue(h1 > h2 && h2 > h3, "heun error falls: " + h1 + " " + h2 + " " + h3);
        assertEquals(1.0, pe, 0.25, "Euler order (errors " + e1 + ", " + e2 + ", " + e3 + ")");
        assertEquals(2.0, ph, 0.4, "Heun order (errors " + h1 + ", " + h2 + ", " + h3 + ")");
        assertTrue(h2 < e2, "Heun beats Euler at 40 steps: " + h2 + " vs " + e2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"ddpm", "ddim", "sde-vp", "sde-ve", "ode-heun", "langevin", "annealed-langevin"})
    void javaAndOpenClGiveTheSameSamplesForTheSameSeed(String name) {
        Sampler s = Samplers.create(name, Samplers.Options.defaults(20));
        var den = new ExactGaussianDenoiser(MU, V, Samplers.preferredPrediction(name));
        float[] j = run(s, den, TestDevices.java(), 5, 257), c = run(s, den, TestDevices.openCl(), 5, 257);
        Close.assertClose(j, c, 2e-4, 2e-4, name + " java vs opencl");
    }

    @ParameterizedTest
    @ValueSource(strings = {"X0", "V", "SCORE"})
    void predictionTypesGiveTheSameSamplesAsEpsilon(String prediction) {
        Sampler s = Samplers.create("ddim", Samplers.Options.defaults(20));
        float[] eps = run(s, new ExactGaussianDenoiser(MU, V, Denoiser.Prediction.EPSILON), TestDevices.java(), 5, 101);
        float[] other = run(s, new ExactGaussianDenoiser(MU, V, Denoiser.Prediction.valueOf(prediction)), TestDevices.java(), 5, 101);
        Close.assertClose(eps, other, 1e-3, 1e-3, prediction + " vs epsilon");
    }

    @Test
    void clippedDdimKeepsX0InRange() {
        var den = new ExactGaussianDenoiser(new double[]{3}, new double[]{0.01}, Denoiser.Prediction.EPSILON);
        Sampler s = Samplers.create("ddim", new Samplers.Options(50, 0, "linear", true, 0.01, 20, 0.01, 1));
        try (Workspace ws = new Workspace(TestDevices.java(), "clip", 1 << 20)) {
            float[] x = s.sample(den, ws, 1, 500, 1).toArray();
            for (float v : x) assertTrue(v <= 1.0001f, "clipped sample " + v + " above the clip range");
        }
    }

    @Test
    void langevinRejectsAnEpsilonDenoiserWithAnExplanation() {
        var den = new ExactGaussianDenoiser(MU, V, Denoiser.Prediction.EPSILON);
        var e = assertThrows(IllegalArgumentException.class, () -> run(new LangevinSampler(5, 0.01, 1), den, TestDevices.java(), 1, 10));
        assertTrue(e.getMessage().contains("score"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Samplers.create("euler-a", Samplers.Options.defaults(5)));
    }
}
