package dev.diffuse.samplers.pipeline;

import dev.diffuse.kernels.diffusion.SamplerStep;
import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.schedule.DiscreteSchedule;

/**
 * DDIM (Song, Meng, Ermon 2021) as diffusers' DDIMScheduler.step (spec §6.5) with set_alpha_to_one, "leading"
 * timesteps and prev = t - N/S:
 * <pre>
 *   x0      = (x_t - sqrt(1 - a_t) eps) / sqrt(a_t)                 (optionally clipped; eps is not recomputed)
 *   sigma   = eta sqrt((1 - a_p) / (1 - a_t) (1 - a_t / a_p))
 *   x_p     = sqrt(a_p) x0 + sqrt(1 - a_p - sigma^2) eps + sigma z
 * </pre>
 * eta = 0 is the deterministic DDIM (a discretisation of the probability-flow ODE); eta = 1 has DDPM's variance.
 */
public record DdimSampler(DiscreteSchedule schedule, int steps, double eta, boolean clipSample, double clipRange) implements Sampler {
    public DdimSampler {
        if (steps < 1 || steps > schedule.trainSteps())
            throw new IllegalArgumentException("ddim: steps must be in 1.." + schedule.trainSteps() + ", got " + steps);
        if (!(eta >= 0)) throw new IllegalArgumentException("ddim: eta must be >= 0, got " + eta);
    }

    @Override public String name() { return "ddim"; }

    @Override public int evaluations() { return steps; }

    @Override public boolean deterministic() { return eta == 0; }

    @Override public double priorStd() { return 1; }

    @Override
    public void run(Denoiser model, Tensor x, Noise noise, Workspace ws) {
        Scratch s = new Scratch(ws, x, false);
        int[] ts = schedule.leadingTimesteps(steps, 0);
        int stride = schedule.trainSteps() / steps;
        for (int k = 0; k < ts.length; k++) {
            int t = ts[k], prev = t - stride;
            double at = schedule.alphaBar(t), ap = schedule.alphaBar(prev), bt = 1 - at;
            double sigma = eta * Math.sqrt((1 - ap) / bt * (1 - at / ap));
            double dir = Math.sqrt(Math.max(0, 1 - ap - sigma * sigma));
            Denoiser.NoiseLevel level = new Denoiser.NoiseLevel(Math.sqrt(at), Math.sqrt(bt), t);
            model.predict(s.m1, x, level);
            Lin eps = Lin.eps1(Epsilon.affine(model.prediction(), Math.sqrt(at), Math.sqrt(bt)));
            Lin x0 = Lin.X.plus(eps.times(-Math.sqrt(bt))).times(1 / Math.sqrt(at));
            if (clipSample) {
                SamplerStep.stepClipX0(x, x, s.m1, x0.x(), x0.m1(), -clipRange, clipRange,
                        dir * eps.x(), Math.sqrt(ap), dir * eps.m1(), sigma, noise, Scratch.stream(k));
            } else {
                s.update(x, x, x0.times(Math.sqrt(ap)).plus(eps.times(dir)), sigma, noise, Scratch.stream(k));
            }
        }
    }
}
