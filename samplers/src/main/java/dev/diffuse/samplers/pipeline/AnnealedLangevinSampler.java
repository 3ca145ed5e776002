package dev.diffuse.samplers.pipeline;

import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.schedule.VeSchedule;

/**
 * Annealed Langevin dynamics (Song and Ermon 2019, Algorithm 1): for noise levels sigma_1 > ... > sigma_L
 * (geometric), run T Langevin steps on the noised density p_sigma_i with step
 * <pre>  alpha_i = eps * sigma_i^2 / sigma_L^2,   x <- x + alpha_i / 2 * score_sigma_i(x) + sqrt(alpha_i) z</pre>
 * The alpha_i ~ sigma_i^2 scaling keeps the signal-to-noise ratio of each step fixed across levels. The score at
 * level i is -eps_hat / sigma_i, with x_t = x_0 + sigma eps (VE convention, scale 1).
 *
 * @param levels        L, e.g. 10
 * @param stepsPerLevel T, e.g. 100
 * @param eps           the base step, e.g. 2e-5 with sigma_L = 0.01
 */
public record AnnealedLangevinSampler(VeSchedule schedule, int levels, int stepsPerLevel, double eps) implements Sampler {
    public AnnealedLangevinSampler {
        if (levels < 1 || stepsPerLevel < 1) throw new IllegalArgumentException("annealed-langevin: levels and steps per level must be >= 1");
        if (!(eps > 0)) throw new IllegalArgumentException("annealed-langevin: eps must be > 0, got " + eps);
    }

    @Override public String name() { return "annealed-langevin"; }

    @Override public int evaluations() { return levels * stepsPerLevel; }

    @Override public double priorStd() { return schedule.sigmaMax(); }

    @Override
    public void run(Denoiser model, Tensor x, Noise noise, Workspace ws) {
        Scratch s = new Scratch(ws, x, false);
        double[] sigmas = schedule.geometricLevels(levels);
        double sigmaL = sigmas[levels - 1];
        int k = 0;
        for (int i = 0; i < levels; i++) {
            double sigma = sigmas[i], alpha = eps * sigma * sigma / (sigmaL * sigmaL);
            Denoiser.NoiseLevel level = new Denoiser.NoiseLevel(1, sigma, i);
            // score = -eps_hat / sigma with eps_hat = cx x + cm m
            Lin score = Lin.eps1(Epsilon.affine(model.prediction(), 1, sigma)).times(-1 / sigma);
            Lin update = Lin.X.plus(score.times(alpha / 2));
            for (int j = 0; j < stepsPerLevel; j++, k++) {
                model.predict(s.m1, x, level);
                s.update(x, x, update, Math.sqrt(alpha), noise, Scratch.stream(k));
            }
        }
    }
}
