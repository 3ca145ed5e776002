package dev.diffuse.samplers.flow;

import static dev.diffuse.runtime.Close.assertClose;
import static org.junit.jupiter.api.Assertions.*;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.Denoiser.NoiseLevel;
import dev.diffuse.samplers.GuidedSamplers;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.Samplers;
import dev.diffuse.samplers.gmm.GaussianMixture;
import dev.diffuse.samplers.gmm.GaussianMixtureDenoiser;
import dev.diffuse.samplers.gmm.MixturePresets;
import dev.diffuse.samplers.guidance.ConditionalDenoiser;
import dev.diffuse.samplers.guidance.ConditionalMixtureDenoiser;
import dev.diffuse.samplers.metrics.MixtureStats;
import dev.diffuse.samplers.metrics.Paired;

/**
 * Flow matching on exact mixtures: the mixture's velocity field E[x0 - eps | x_t] two ways, solver orders from a fixed
 * noise x_0 (no sampling noise: ../shared/MEASURING-SAMPLERS.md §1), samples matching the mixture, devices agreeing,
 * and the flow-matching loss minimised by the exact field.
 */
class FlowSamplerTest {
    static float[] sample(Sampler s, GaussianMixture m, Device d, int n, long seed) {
        try (var den = new ConditionalMixtureDenoiser(m, d, Denoiser.Prediction.VELOCITY); Workspace ws = new Workspace(d, "flow", 32L << 20)) {
            return s.sample(den.fixed(ConditionalDenoiser.NULL_LABEL), ws, seed, n, m.dim()).toArray();
        }
    }

    /** The posterior-mean form (conditional denoiser) equals GaussianMixtureDenoiser's Tweedie form x/s + (sigma + sigma^2/s) score. */
    @Test
    void velocityFormulaAgreesWithTheMixtureDenoiser() {
        GaussianMixture m = MixturePresets.aniso2d();
        float[] x = dev.diffuse.runtime.Close.randn(4, 2 * 301);
        for (double t : new double[]{0.05, 0.3, 0.7, 0.99}) {
            NoiseLevel level = new NoiseLevel(t, 1 - t, t);
            for (Device d : List.of(TestDevices.java(), TestDevices.openCl())) {
                try (var a = new GaussianMixtureDenoiser(m, d, Denoiser.Prediction.VELOCITY);
                     var b = new ConditionalMixtureDenoiser(m, d, Denoiser.Prediction.VELOCITY);
                     Tensor tx = Tensor.of(d, x, 301, 2); Tensor oa = Tensor.allocate(d, 301, 2); Tensor ob = Tensor.allocate(d, 301, 2)) {
                    a.predict(oa, tx, level);
                    b.fixed(ConditionalDenoiser.NULL_LABEL).predict(ob, tx, level);
                    assertClose(oa.toArray(), ob.toArray(), 2e-3 / t, 1e-3, "t = " + t + " on " + d.id());
                }
            }
        }
    }

    /** Endpoint error vs Heun at 1000 steps from the same x_0: Euler order ~1, Heun ~2, Heun far more accurate. */
    @Test
    void ordersFromAFixedStart() {
        GaussianMixture m = MixturePresets.ring8();
        Device d = TestDevices.openCl();
        int n = 1000;
        float[] ref = sample(new FlowSampler(1000, FlowSampler.Method.HEUN), m, d, n, 11);
        double[] euler = new double[3], heun = new double[3];
        for (int i = 0; i < 3; i++) {
            int steps = 20 << i;
            euler[i] = Paired.rmsDistance(sample(new FlowSampler(steps, FlowSampler.Method.EULER), m, d, n, 11), ref, 2);
            heun[i] = Paired.rmsDistance(sample(new FlowSampler(steps, FlowSampler.Method.HEUN), m, d, n, 11), ref, 2);
        }
        String msg = "Euler " + java.util.Arrays.toString(euler) + " Heun " + java.util.Arrays.toString(heun);
        System.out.println("flow endpoint RMS error vs Heun-1000 at 20/40/80 steps: " + msg);
        for (int i = 0; i < 2; i++) {
            double oe = Paired.order(euler[i], euler[i + 1]), oh = Paired.order(heun[i], heun[i + 1]);
            assertEquals(1.0, oe, 0.3, "Euler order; " + msg);
            assertTrue(oh > 1.6 && oh < 2.6, "Heun order " + oh + "; " + msg);
        }
        assertTrue(heun[2] < euler[2] / 10, msg);
    }

    /** flow-heun at 50 steps samples the mixture: mean exact log-density within 5 SE + 0.06 nats, occupancy chi-square. */
    @Test
    void heunSamplesTheMixture() {
        for (GaussianMixture m : List.of(MixturePresets.ring8(), MixturePresets.aniso2d())) {
            float[] x = sample(GuidedSamplers.create("flow-heun", Samplers.Options.defaults(50)), m, TestDevices.openCl(), 4000, 1);
            var gen = MixtureStats.meanLogDensity(m, x);
            var exact = MixtureStats.exactMeanLogDensity(m, 20000, 5);
            assertEquals(exact.mean(), gen.mean(), 5 * Math.hypot(gen.standardError(), exact.standardError()) + 0.06, m.toString());
            double critical = m.components() == 8 ? 24.32 : 16.27;
            assertTrue(MixtureStats.occupancy(m, x).chiSquare() < critical, m + " occupancy");
        }
    }

    @Test
    void javaAndOpenClAgree() {
        GaussianMixture m = MixturePresets.aniso2d();
        Sampler s = GuidedSamplers.create("flow-euler", Samplers.Options.defaults(30));
        assertClose(sample(s, m, TestDevices.java(), 200, 3), sample(s, m, TestDevices.openCl(), 200, 3), 1e-3, 1e-3, "flow-euler Java vs OpenCL");
        var e = assertThrows(IllegalArgumentException.class, () -> {
            try (var den = new GaussianMixtureDenoiser(m, TestDevices.java(), Denoiser.Prediction.EPSILON);
                 Workspace ws = new Workspace(TestDevices.java(), "f", 1 << 20)) {
                s.sample(den, ws, 1, 4, 2);
            }
        });
        assertTrue(e.getMessage().contains("VELOCITY"), e.getMessage());
    }

    /** The exact field minimises the flow-matching loss: scaled or shifted fields score higher, at several t. */
    @Test
    void exactVelocityMinimisesTheLoss() {
        GaussianMixture m = MixturePresets.aniso2d();
        int n = 20000;
        for (Device d : List.of(TestDevices.java(), TestDevices.openCl())) {
            try (var den = new ConditionalMixtureDenoiser(m, d, Denoiser.Prediction.VELOCITY); Tensor x0 = Tensor.allocate(d, n, 2);
                 Tensor t = Tensor.allocate(d, n); Tensor xt = Tensor.allocate(d, n, 2); Tensor target = Tensor.allocate(d, n, 2);
                 Tensor pred = Tensor.allocate(d, n, 2); Tensor loss = Tensor.allocate(d, 1)) {
                m.sample(x0, 2);
                for (double tv : new double[]{0.0, 0.4, 0.9}) {
                    Rng.fillNormal(t, 0, 0, 0, (float) tv, 0f);
                    FlowMatchingLoss.prepare(xt, target, x0, t, 2, 3);
                    den.fixed(ConditionalDenoiser.NULL_LABEL).predict(pred, xt, new NoiseLevel(tv, 1 - tv, tv));
                    FlowMatchingLoss.loss(loss, pred, target);
                    double exact = loss.get(0);
                    float[] p = pred.toArray();
                    for (float[] alt : new float[][]{scale(p, 0.9f), shift(p, 0.1f)}) {
                        pred.upload(alt);
                        FlowMatchingLoss.loss(loss, pred, target);
                        assertTrue(exact < loss.get(0), "t = " + tv + " on " + d.id() + ": exact field's loss " + exact + " vs " + loss.get(0));
                    }
                }
            }
        }
    }

    static float[] scale(float[] p, float k) {
        float[] o = p.clone();
        for (int i = 0; i < o.length; i++) o[i] *= k;
        return o;
    }

    static float[] shift(float[] p, float k) {
        float[] o = p.clone();
        for (int i = 0; i < o.length; i++) o[i] += k;
        return o;
    }
}
