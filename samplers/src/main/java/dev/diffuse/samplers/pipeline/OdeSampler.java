package dev.diffuse.samplers.pipeline;

import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.schedule.Sde;

/**
 * The probability-flow ODE dx/dt = f x - g^2 score / 2 = f x + g^2 / (2 sigma) eps (Song et al. 2021), which has
 * the same marginals as the SDE, integrated deterministically from t = 1 to t_end on a uniform grid.
 * Writing the right-hand side as d(x, t) = A(t) x + B(t) eps_hat(x, t):
 * <pre>
 *   Euler:  x' = x - h d(x, t)                                              (order 1)
 *   Heun:   x~ = x - h d(x, t);  x' = x - h/2 [d(x, t) + d(x~, t - h)]     (order 2, two evaluations per step)
 * </pre>
 * Heun's two stages are combined on the host into one fused update over (x, m1, m2): the predictor x~ is written
 * once for the second evaluation, and x' = cx x + c1 m1 + c2 m2 follows from substituting x~.
 */
public record OdeSampler(Sde sde, int steps, Method method) implements Sampler {
    public enum Method { EULER, HEUN }

    public OdeSampler {
        if (steps < 1) throw new IllegalArgumentException("ode: steps must be >= 1, got " + steps);
    }

    @Override public String name() { return "ode-" + method.name().toLowerCase(java.util.Locale.ROOT) + (sde.name().equals("vp") ? "" : "-" + sde.name()); }

    @Override public boolean deterministic() { return true; }

    @Override public int evaluations() { return method == Method.HEUN ? 2 * steps : steps; }

    @Override public double priorStd() { return sde.priorStd(); }

    /** d(x, t) = A x + B eps with eps = cx x + cm m: as a Lin over (x, m) where m sits in slot m1 or m2. */
    private Lin rhs(Denoiser.Prediction p, double t, boolean secondSlot) {
        double sigma = sde.sigma(t);
        double[] e = Epsilon.affine(p, sde.scale(t), sigma);
        double a = sde.drift(t), b = 0.5 * sde.g2(t) / sigma;
        return secondSlot ? new Lin(a + b * e[0], 0, b * e[1]) : new Lin(a + b * e[0], b * e[1], 0);
    }

    @Override
    public void run(Denoiser model, Tensor x, Noise noise, Workspace ws) {
        Scratch s = new Scratch(ws, x, method == Method.HEUN);
        double h = (1 - sde.tEnd()) / steps;
        Denoiser.Prediction p = model.prediction();
        for (int k = 0; k < steps; k++) {
            double t = 1 - k * h, tn = t - h;
            model.predict(s.m1, x, level(t));
            Lin d1 = rhs(p, t, false);
            Lin euler = Lin.X.plus(d1.times(-h));
            if (method == Method.EULER) {
                s.update(x, x, euler, 0, noise, 0);
                continue;
            }
            s.update(s.xt, x, euler, 0, noise, 0);          // x~ = x - h d1
            model.predict(s.m2, s.xt, level(tn));
            Lin d2 = rhs(p, tn, true);                      // d2 = a2 x~ + b2 m2, with x~ = euler (a Lin over x, m1)
            Lin d2OverX = euler.times(d2.x()).plus(new Lin(0, 0, d2.m2()));
            s.update(x, x, Lin.X.plus(d1.plus(d2OverX).times(-h / 2)), 0, noise, 0);
        }
    }

    private Denoiser.NoiseLevel level(double t) { return new Denoiser.NoiseLevel(sde.scale(t), sde.sigma(t), t); }
}
