package dev.diffuse.samplers.consistency;

import java.util.Arrays;

import dev.diffuse.kernels.diffusion.SamplerStep;
import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.Sampler;

/**
 * Multistep consistency sampling (Song et al. 2023, Algorithm 1) with noise levels tau_0 = sigma_max &gt; tau_1 &gt; ...:
 * <pre>
 *   x ~ N(0, tau_0^2 I);   x = f(x, tau_0)                               (one step: done)
 *   for k = 1 ..:  x = x + sqrt(tau_k^2 - sigma_min^2) z;  x = f(x, tau_k)
 * </pre>
 * f is an {@link Denoiser.Prediction#X0} denoiser at NoiseLevel(1, tau_k, tau_k) (a consistency function). Each
 * re-noising is one fused SamplerStep (z from stream k + 1), the evaluation writes into scratch and the copy back is
 * folded into the next re-noising, so the loop enqueues kernels only and reads nothing back.
 */
public record ConsistencySampler(double[] taus, double sigmaMin) implements Sampler {
    public ConsistencySampler {
        taus = taus.clone();
        if (taus.length < 1) throw new IllegalArgumentException("consistency sampler: need at least one noise level");
        for (int k = 0; k < taus.length; k++)
            if (!(taus[k] > sigmaMin) || (k > 0 && !(taus[k] < taus[k - 1])))
                throw new IllegalArgumentException("consistency sampler: noise levels must decrease and stay above sigma_min "
                        + sigmaMin + ", got " + Arrays.toString(taus));
    }

    /** One step from sigmaMax. */
    public static ConsistencySampler oneStep(double sigmaMax, double sigmaMin) { return new ConsistencySampler(new double[]{sigmaMax}, sigmaMin); }

    /** Two steps: sigmaMax, then back to {@code mid}. */
    public static ConsistencySampler twoStep(double sigmaMax, double mid, double sigmaMin) {
        return new ConsistencySampler(new double[]{sigmaMax, mid}, sigmaMin);
    }

    @Override public String name() { return "consistency-" + taus.length + "step"; }
    @Override public int evaluations() { return taus.length; }
    @Override public double priorStd() { return taus[0]; }

    @Override
    public void run(Denoiser model, Tensor x, Noise noise, Workspace ws) {
        if (model.prediction() != Denoiser.Prediction.X0)
            throw new IllegalArgumentException("consistency sampler: needs a consistency function (an X0 denoiser), got " + model.prediction());
        Tensor f = ws.like(x);
        model.predict(f, x, new Denoiser.NoiseLevel(1, taus[0], taus[0]));
        for (int k = 1; k < taus.length; k++) {
            double c = Math.sqrt(taus[k] * taus[k] - sigmaMin * sigmaMin);
            SamplerStep.step(x, f, f, 1, 0, c, noise, k + 1);   // x = f + c z
            model.predict(f, x, new Denoiser.NoiseLevel(1, taus[k], taus[k]));
        }
        SamplerStep.step(x, f, f, 1, 0, 0, noise, 0);           // x = f
    }
}
