package dev.diffuse.samplers.diffusers;

import static dev.diffuse.runtime.Close.assertClose;
import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.GuidedSamplers;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.Samplers;
import dev.diffuse.samplers.gmm.GaussianMixture;
import dev.diffuse.samplers.gmm.GaussianMixtureDenoiser;
import dev.diffuse.samplers.gmm.MixturePresets;
import dev.diffuse.samplers.metrics.MixtureStats;

/** The diffusers samplers over the exact mixture denoiser: same samples as the pipeline samplers, v-prediction, devices. */
class DiffusersSamplerTest {
    static float[] run(Sampler s, Denoiser.Prediction p, Device dev, int n) {
        GaussianMixture m = MixturePresets.ring8();
        try (var den = new GaussianMixtureDenoiser(m, dev, p); Workspace ws = new Workspace(dev, "t", 16L << 20)) {
            return s.sample(den, ws, 3, n, m.dim()).toArray();
        }
    }

    /** Same formulas and the same noise streams as pipeline.DdpmSampler / DdimSampler: the samples agree. */
    @Test
    void matchesThePipelineSamplers() {
        Device d = TestDevices.java();
        var o = Samplers.Options.defaults(50);
        float[] mine = run(GuidedSamplers.create("diffusers-ddpm", o), Denoiser.Prediction.EPSILON, d, 300);
        float[] theirs = run(Samplers.create("ddpm", o), Denoiser.Prediction.EPSILON, d, 300);
        assertClose(theirs, mine, 2e-4, 2e-4, "diffusers-ddpm vs ddpm");
        var o2 = new Samplers.Options(50, 0.5, "linear", false, 0.01, 20, 0.01, 4);
        mine = run(GuidedSamplers.create("diffusers-ddim", o2), Denoiser.Prediction.EPSILON, d, 300);
        theirs = run(Samplers.create("ddim", o2), Denoiser.Prediction.EPSILON, d, 300);
        assertClose(theirs, mine, 2e-4, 2e-4, "diffusers-ddim vs ddim");
    }

    /** v-prediction with trailing spacing samples the mixture (mean exact log-density within 5 SE + 0.06 nats). */
    @Test
    void vPredictionTrailingSamplesTheMixture() {
        SchedulerConfig c = SchedulerConfig.defaults().with("clip_sample", false).with("prediction_type", "v_prediction")
                .with("timestep_spacing", "trailing");
        var s = new DiffusersSampler("diffusers-ddim", c, true, 100, 0, false);
        GaussianMixture m = MixturePresets.ring8();
        float[] x = run(s, Denoiser.Prediction.V, TestDevices.openCl(), 4000);
        var gen = MixtureStats.meanLogDensity(m, x);
        var exact = MixtureStats.exactMeanLogDensity(m, 20000, 5);
        assertEquals(exact.mean(), gen.mean(), 5 * Math.hypot(gen.standardError(), exact.standardError()) + 0.06);
        var e = assertThrows(IllegalArgumentException.class, () -> run(s, Denoiser.Prediction.EPSILON, TestDevices.java(), 10));
        assertTrue(e.getMessage().contains("v_prediction"), e.getMessage());
    }

    /** Same seed, two devices, thresholding on: the samples agree (the quantile is exact on both). */
    @Test
    void javaAndOpenClAgreeWithThresholding() {
        SchedulerConfig c = SchedulerConfig.defaults().with("thresholding", true).with("sample_max_value", 3.0);
        var s = new DiffusersSampler("diffusers-ddpm", c, false, 20, 0, false);
        float[] a = run(s, Denoiser.Prediction.EPSILON, TestDevices.java(), 64);
        float[] b = run(s, Denoiser.Prediction.EPSILON, TestDevices.openCl(), 64);
        assertClose(a, b, 1e-3, 1e-3, "thresholded DDPM, Java vs OpenCL");
        for (float v : a) assertTrue(Math.abs(v) <= 1.0001f, "thresholded x0 lies in [-1, 1], so does the last step's output: " + v);
    }
}
