package dev.diffuse.samplers.pipeline;

import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.schedule.Sde;

/**
 * Euler-Maruyama on the reverse-time SDE dx = [f x - g^2 score] dt + g dw_bar (Anderson 1982; Song et al. 2021),
 * integrated from t = 1 down to t_end on a uniform grid with h = (1 - t_end) / N:
 * <pre>  x <- x - h (f x - g^2 score) + sqrt(g^2 h) z = (1 - h f) x + h g^2 score + sqrt(g^2 h) z</pre>
 * with score = -eps / sigma(t) and all coefficients at the current t. The last step adds no noise.
 */
public record ReverseSdeSampler(Sde sde, int steps) implements Sampler {
    public ReverseSdeSampler {
        if (steps < 1) throw new IllegalArgumentException("sde: steps must be >= 1, got " + steps);
    }

    @Override public String name() { return "sde-" + sde.name(); }

    @Override public int evaluations() { return steps; }

    @Override public double priorStd() { return sde.priorStd(); }

    @Override
    public void run(Denoiser model, Tensor x, Noise noise, Workspace ws) {
        Scratch s = new Scratch(ws, x, false);
        double h = (1 - sde.tEnd()) / steps;
        for (int k = 0; k < steps; k++) {
            double t = 1 - k * h, sigma = sde.sigma(t), g2 = sde.g2(t);
            model.predict(s.m1, x, new Denoiser.NoiseLevel(sde.scale(t), sigma, t));
            Lin score = Lin.eps1(Epsilon.affine(model.prediction(), sde.scale(t), sigma)).times(-1 / sigma);
            Lin update = Lin.X.times(1 - h * sde.drift(t)).plus(score.times(h * g2));
            s.update(x, x, update, k + 1 < steps ? Math.sqrt(g2 * h) : 0, noise, Scratch.stream(k));
        }
    }
}
