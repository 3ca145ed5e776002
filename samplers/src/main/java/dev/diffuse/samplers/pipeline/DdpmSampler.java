package dev.diffuse.samplers.pipeline;

import dev.diffuse.kernels.diffusion.SamplerStep;
import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.schedule.DiscreteSchedule;

/**
 * DDPM ancestral sampling (Ho et al. 2020) over diffusers' "leading" timesteps, with diffusers' DDPMScheduler step
 * (spec §6.4, variance "fixed_small"): for t with predecessor p (alpha_bar a_t, a_p; a_p = 1 after the last step)
 * <pre>
 *   x0  = (x_t - sqrt(1 - a_t) eps) / sqrt(a_t)          (optionally clipped to [-r, r])
 *   mu  = sqrt(a_p) beta / (1 - a_t) x0 + sqrt(alpha) (1 - a_p) / (1 - a_t) x_t,   alpha = a_t / a_p, beta = 1 - alpha
 *   x_p = mu + sqrt((1 - a_p) / (1 - a_t) beta) z        (no noise at t = 0)
 * </pre>
 * With all 1000 steps this is Algorithm 2 of the paper with sigma_t^2 = beta_tilde_t.
 */
public record DdpmSampler(DiscreteSchedule schedule, int steps, boolean clipSample, double clipRange) implements Sampler {
    public DdpmSampler {
        if (steps < 1 || steps > schedule.trainSteps())
            throw new IllegalArgumentException("ddpm: steps must be in 1.." + schedule.trainSteps() + ", got " + steps);
    }

    @Override public String name() { return "ddpm"; }

    @Override public int evaluations() { return steps; }

    @Override public double priorStd() { return 1; }

    @Override
    public void run(Denoiser model, Tensor x, Noise noise, Workspace ws) {
        Scratch s = new Scratch(ws, x, false);
        int[] ts = schedule.leadingTimesteps(steps, 0);
        for (int k = 0; k < ts.length; k++) {
            int t = ts[k], prev = k + 1 < ts.length ? ts[k + 1] : -1;
            double at = schedule.alphaBar(t), ap = schedule.alphaBar(prev), bt = 1 - at, bp = 1 - ap;
            double alpha = at / ap, beta = 1 - alpha;
            double c0 = Math.sqrt(ap) * beta / bt, ct = Math.sqrt(alpha) * bp / bt;
            double std = t > 0 ? Math.sqrt(Math.max(bp / bt * beta, 1e-20)) : 0;
            Denoiser.NoiseLevel level = new Denoiser.NoiseLevel(Math.sqrt(at), Math.sqrt(bt), t);
            model.predict(s.m1, x, level);
            Lin eps = Lin.eps1(Epsilon.affine(model.prediction(), Math.sqrt(at), Math.sqrt(bt)));
            Lin x0 = Lin.X.plus(eps.times(-Math.sqrt(bt))).times(1 / Math.sqrt(at));
            if (clipSample) {
                SamplerStep.stepClipX0(x, x, s.m1, x0.x(), x0.m1(), -clipRange, clipRange, ct, c0, 0, std, noise, Scratch.stream(k));
            } else {
                s.update(x, x, x0.times(c0).plus(Lin.X.times(ct)), std, noise, Scratch.stream(k));
            }
        }
    }
}
