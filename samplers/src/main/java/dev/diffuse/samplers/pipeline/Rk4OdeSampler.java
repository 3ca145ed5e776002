package dev.diffuse.samplers.pipeline;

import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.schedule.Sde;

/**
 * The probability-flow ODE dx/dt = d(x, t) = f x + g^2 / (2 sigma) eps_hat(x, t) (see {@link OdeSampler}) with the
 * classic fourth-order Runge-Kutta method, from t = 1 to t_end on a uniform grid (step -h):
 * <pre>
 *   k1 = d(x, t);   k2 = d(x - h/2 k1, t - h/2);   k3 = d(x - h/2 k2, t - h/2);   k4 = d(x - h k3, t - h)
 *   x' = x - h/6 (k1 + 2 k2 + 2 k3 + k4)                                        (order 4, four evaluations)
 * </pre>
 * Each slope k_j = alpha_j x_j + beta_j m_j is affine in its stage state and model output, and each stage state is a
 * linear combination of x and the earlier outputs, so the host carries every quantity as {@link Terms} over
 * (x, m1..m4): the three stage states are written once each (one pass over x and the outputs so far) and the final
 * update is one pass over x and all four outputs. Scratch: four outputs and one stage state.
 * On VE the uniform grid in t is uniform in log sigma; on VP it is stiff near t_end, which limits the observed order
 * at moderate N.
 */
public record Rk4OdeSampler(Sde sde, int steps) implements Sampler {
    public Rk4OdeSampler {
        if (steps < 1) throw new IllegalArgumentException("ode-rk4: steps must be >= 1, got " + steps);
    }

    @Override public String name() { return "ode-rk4" + (sde.name().equals("vp") ? "" : "-" + sde.name()); }

    @Override public int evaluations() { return 4 * steps; }

    @Override public boolean deterministic() { return true; }

    @Override public double priorStd() { return sde.priorStd(); }

    /** The slope d = alpha x_j + beta m_j at t, as {alpha, beta}. */
    private double[] slope(Denoiser.Prediction p, double t) {
        double sigma = sde.sigma(t), b = 0.5 * sde.g2(t) / sigma;
        double[] e = Epsilon.affine(p, sde.scale(t), sigma);
        return new double[]{sde.drift(t) + b * e[0], b * e[1]};
    }

    @Override
    public void run(Denoiser model, Tensor x, Noise noise, Workspace ws) {
        Tensor[] m = {ws.like(x), ws.like(x), ws.like(x), ws.like(x)};
        Tensor stage = ws.like(x);
        double h = (1 - sde.tEnd()) / steps;
        double[] offset = {0, h / 2, h / 2, h}, advance = {h / 2, h / 2, h};
        Denoiser.Prediction p = model.prediction();
        for (int n = 0; n < steps; n++) {
            double t = 1 - n * h;
            Terms state = Terms.x(), sum = new Terms(new double[Terms.SIZE]);
            for (int j = 0; j < 4; j++) {
                double tj = t - offset[j];
                if (j > 0) state.apply(stage, x, m, 0, noise, 0);
                model.predict(m[j], j == 0 ? x : stage, new Denoiser.NoiseLevel(sde.scale(tj), sde.sigma(tj), tj));
                double[] ab = slope(p, tj);
                Terms k = state.times(ab[0]).plus(Terms.unit(j + 1, ab[1]));
                sum = sum.plus(k.times(j == 0 || j == 3 ? 1 : 2));
                if (j < 3) state = Terms.x().plus(k.times(-advance[j]));
            }
            Terms.x().plus(sum.times(-h / 6)).apply(x, x, m, 0, noise, 0);
        }
    }
}
