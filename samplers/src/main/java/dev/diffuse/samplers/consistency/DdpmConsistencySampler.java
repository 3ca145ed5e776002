package dev.diffuse.samplers.consistency;

import java.util.Arrays;

import dev.diffuse.kernels.diffusion.SamplerStep;
import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.schedule.DiscreteSchedule;

/**
 * Multistep consistency sampling (Song et al. 2023, Algorithm 1) on a DDPM schedule, as latent consistency models do,
 * at timesteps t_0 &gt; t_1 &gt; ...:
 * <pre>
 *   x ~ N(0, I);  x0 = f(x, t_0)
 *   for k = 1 ..:  x = sqrt(ab_{t_k}) x0 + sqrt(1 - ab_{t_k}) z;   x0 = f(x, t_k)
 *   return x0
 * </pre>
 * f is an {@link Denoiser.Prediction#X0} denoiser at NoiseLevel(sqrt(ab_t), sqrt(1 - ab_t), t). With {@code clip}, each x0
 * is clipped to [-1, 1] before it is re-noised or returned (images, as DDIM clips its x0). Each re-noising is one fused
 * stepClipX0 (z from stream k + 1); nothing is read back in the loop.
 */
public record DdpmConsistencySampler(DiscreteSchedule schedule, int[] timesteps, boolean clip) implements Sampler {
    public DdpmConsistencySampler {
        timesteps = timesteps.clone();
        if (timesteps.length < 1) throw new IllegalArgumentException("consistency sampler: need at least one timestep");
        for (int k = 0; k < timesteps.length; k++)
            if (timesteps[k] < 0 || timesteps[k] >= schedule.trainSteps() || (k > 0 && timesteps[k] >= timesteps[k - 1]))
                throw new IllegalArgumentException("consistency sampler: timesteps must decrease within 0.." + (schedule.trainSteps() - 1)
                        + ", got " + Arrays.toString(timesteps));
    }

    /**
     * {@code steps} timesteps of a model distilled on the grid 0, stride, ..., top (top a multiple of stride): grid indices
     * m, m - round(k m / steps), ... with m = top / stride (a 25-step teacher grid, stride 40: top 960 and 2 steps gives
     * 960, 480; 4 steps 960, 720, 480, 240; top 760 and 2 steps 760, 360).
     */
    public static DdpmConsistencySampler onGrid(DiscreteSchedule schedule, int stride, int top, int steps, boolean clip) {
        if (stride < 1 || top < stride || top % stride != 0 || top >= schedule.trainSteps())
            throw new IllegalArgumentException("consistency sampler: top timestep " + top + " must be a positive multiple of the grid's stride "
                    + stride + " below " + schedule.trainSteps());
        int m = top / stride;
        if (steps < 1 || steps > m)
            throw new IllegalArgumentException("consistency sampler: steps must be 1.." + m + " on a grid of " + m + " levels above 0, got " + steps);
        int[] ts = new int[steps];
        for (int k = 0; k < steps; k++) ts[k] = (m - (int) Math.round((double) k * m / steps)) * stride;
        return new DdpmConsistencySampler(schedule, ts, clip);
    }

    @Override public String name() { return "consistency-" + timesteps.length + "step"; }
    @Override public int evaluations() { return timesteps.length; }
    @Override public boolean deterministic() { return timesteps.length == 1; }
    @Override public double priorStd() { return 1; }

    /** The noise level of timestep t. */
    public Denoiser.NoiseLevel level(int t) {
        double ab = schedule.alphaBar(t);
        return new Denoiser.NoiseLevel(Math.sqrt(ab), Math.sqrt(1 - ab), t);
    }

    @Override
    public void run(Denoiser model, Tensor x, Noise noise, Workspace ws) {
        if (model.prediction() != Denoiser.Prediction.X0)
            throw new IllegalArgumentException("consistency sampler: needs a consistency function (an X0 denoiser), got " + model.prediction());
        Tensor f = ws.like(x);
        double lo = clip ? -1 : Double.NEGATIVE_INFINITY, hi = clip ? 1 : Double.POSITIVE_INFINITY;
        model.predict(f, x, level(timesteps[0]));
        for (int k = 1; k < timesteps.length; k++) {
            Denoiser.NoiseLevel l = level(timesteps[k]);
            // x = scale * clamp(f) + sigma * z
            SamplerStep.stepClipX0(x, f, f, 1, 0, lo, hi, 0, l.scale(), 0, l.sigma(), noise, k + 1);
            model.predict(f, x, l);
        }
        SamplerStep.stepClipX0(x, f, f, 1, 0, lo, hi, 0, 1, 0, 0, noise, 0);   // x = clamp(f)
    }
}
