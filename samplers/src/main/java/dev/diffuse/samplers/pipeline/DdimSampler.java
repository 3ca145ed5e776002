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

    /**
     * The update of step k as one fused pass over (x, m), m the model output at {@code level}:
     * {@code x' = a x + b clamp(p x + q m, lo, hi) + d m + c z} (z: normal i of stream {@code stream}). With clipping
     * this is {@link SamplerStep#stepClipX0}; without it b = p = q = 0 and it is {@link SamplerStep#step} with
     * (a, d, c). Exposed so that executors that run the whole loop elsewhere (the TornadoVM module) take the very same
     * scalars.
     */
    public record Step(Denoiser.NoiseLevel level, boolean clip, double p, double q, double lo, double hi,
                       double a, double b, double d, double c, long stream) {}

    /** The scalars of step k (0 .. steps-1) for a denoiser with the given parameterisation. */
    public Step step(int k, Denoiser.Prediction prediction) {
        if (k < 0 || k >= steps) throw new IllegalArgumentException("ddim: step " + k + " is not in 0.." + (steps - 1));
        int[] ts = schedule.leadingTimesteps(steps, 0);
        int stride = schedule.trainSteps() / steps;
        int t = ts[k], prev = t - stride;
        double at = schedule.alphaBar(t), ap = schedule.alphaBar(prev), bt = 1 - at;
        double sigma = eta * Math.sqrt((1 - ap) / bt * (1 - at / ap));
        double dir = Math.sqrt(Math.max(0, 1 - ap - sigma * sigma));
        Denoiser.NoiseLevel level = new Denoiser.NoiseLevel(Math.sqrt(at), Math.sqrt(bt), t);
        Lin eps = Lin.eps1(Epsilon.affine(prediction, Math.sqrt(at), Math.sqrt(bt)));
        Lin x0 = Lin.X.plus(eps.times(-Math.sqrt(bt))).times(1 / Math.sqrt(at));
        if (clipSample)
            return new Step(level, true, x0.x(), x0.m1(), -clipRange, clipRange, dir * eps.x(), Math.sqrt(ap), dir * eps.m1(), sigma,
                    Scratch.stream(k));
        Lin lin = x0.times(Math.sqrt(ap)).plus(eps.times(dir));
        return new Step(level, false, 0, 0, 0, 0, lin.x(), 0, lin.m1(), sigma, Scratch.stream(k));
    }

    @Override
    public void run(Denoiser model, Tensor x, Noise noise, Workspace ws) {
        Scratch s = new Scratch(ws, x, false);
        for (int k = 0; k < steps; k++) {
            Step st = step(k, model.prediction());
            model.predict(s.m1, x, st.level());
            if (st.clip()) SamplerStep.stepClipX0(x, x, s.m1, st.p(), st.q(), st.lo(), st.hi(), st.a(), st.b(), st.d(), st.c(), noise, st.stream());
            else SamplerStep.step(x, x, s.m1, st.a(), st.d(), st.c(), noise, st.stream());
        }
    }
}
