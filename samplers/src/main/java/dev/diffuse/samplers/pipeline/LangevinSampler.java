package dev.diffuse.samplers.pipeline;

import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.Sampler;

/**
 * Unadjusted Langevin algorithm on the data density p itself:
 * <pre>  x_{k+1} = x_k + eps * grad log p(x_k) + sqrt(2 eps) z_k</pre>
 * the Euler-Maruyama discretisation of dx = grad log p dt + sqrt(2) dw, whose stationary law is p. The step size
 * biases the stationary law by O(eps) (for a Gaussian target with covariance eigenvalue lambda the stationary
 * variance is lambda / (1 - eps / (2 lambda))). Needs a SCORE denoiser (evaluated at sigma = 0). It mixes poorly
 * between well-separated modes: that is what annealed Langevin fixes.
 *
 * @param stepSize eps, e.g. 0.01 for modes of std 0.3
 * @param initStd  the chains start from N(0, initStd^2 I)
 */
public record LangevinSampler(int steps, double stepSize, double initStd) implements Sampler {
    public LangevinSampler {
        if (steps < 1) throw new IllegalArgumentException("langevin: steps must be >= 1, got " + steps);
        if (!(stepSize > 0)) throw new IllegalArgumentException("langevin: step size must be > 0, got " + stepSize);
    }

    @Override public String name() { return "langevin"; }

    @Override public int evaluations() { return steps; }

    @Override public double priorStd() { return initStd; }

    @Override
    public void run(Denoiser model, Tensor x, Noise noise, Workspace ws) {
        if (model.prediction() != Denoiser.Prediction.SCORE)
            throw new IllegalArgumentException("langevin samples p itself and needs the score at sigma = 0, but the denoiser predicts "
                    + model.prediction() + "; use a score denoiser (e.g. the Gaussian mixture's) or annealed-langevin");
        Scratch s = new Scratch(ws, x, false);
        Denoiser.NoiseLevel clean = new Denoiser.NoiseLevel(1, 0, 0);
        for (int k = 0; k < steps; k++) {
            model.predict(s.m1, x, clean);
            s.update(x, x, new Lin(1, stepSize, 0), Math.sqrt(2 * stepSize), noise, Scratch.stream(k));
        }
    }
}
