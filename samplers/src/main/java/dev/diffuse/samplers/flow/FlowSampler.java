package dev.diffuse.samplers.flow;

import java.util.Locale;

import dev.diffuse.kernels.diffusion.SamplerStep;
import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.Sampler;

/**
 * Flow matching / rectified flow (Lipman et al. 2023; Liu et al. 2023) on the linear path x_t = (1 - t) eps + t x_0,
 * t from 0 (noise) to 1 (data): dx/dt = E[x_0 - eps | x_t], integrated on a uniform grid h = 1 / N.
 * The denoiser is called at NoiseLevel(scale = t, sigma = 1 - t, timestep = t). Its output m gives the velocity
 * v = cx x + cm m (affine, folded into the update):
 * <pre>
 *   VELOCITY  v = m                        EPSILON  v = (x - m) / t              (x_0 = (x - (1-t) eps) / t)
 *   X0        v = (m - x) / (1 - t)        SCORE    v = (x + (1 - t) m) / t      (eps = -(1-t) score)
 * </pre>
 * (EPSILON and SCORE are singular at t = 0, X0 at t = 1; a flow model predicts VELOCITY.)
 * <pre>
 *   Euler: x' = x + h v(x, t)                                            (order 1, one evaluation per step)
 *   Heun:  x~ = x + h v(x, t);  x' = x + h/2 [v(x, t) + v(x~, t + h)]    (order 2, two evaluations per step)
 * </pre>
 * Each step is one fused kernel (Heun: one more for x~); no noise, no read-back.
 */
public record FlowSampler(int steps, Method method) implements Sampler {
    public enum Method { EULER, HEUN }

    public FlowSampler {
        if (steps < 1) throw new IllegalArgumentException("flow: steps must be >= 1, got " + steps);
    }

    @Override public String name() { return "flow-" + method.name().toLowerCase(Locale.ROOT); }

    @Override public int evaluations() { return method == Method.HEUN ? 2 * steps : steps; }

    @Override public boolean deterministic() { return true; }

    @Override public double priorStd() { return 1; }

    /** {cx, cm}: v = cx x + cm m at time t. */
    static double[] velocity(Denoiser.Prediction p, double t) {
        double s = t, sigma = 1 - t;
        return switch (p) {
            case VELOCITY -> new double[]{0, 1};
            case EPSILON -> { need(s > 0, p, t); yield new double[]{1 / s, -1 / s}; }
            case SCORE -> { need(s > 0, p, t); yield new double[]{1 / s, sigma / s}; }
            case X0 -> { need(sigma > 0, p, t); yield new double[]{-1 / sigma, 1 / sigma}; }
            case V -> throw new IllegalArgumentException("flow: a diffusers v-prediction model belongs to a VP schedule, not the "
                    + "linear flow path; use a diffusers scheduler (diffusers-ddim with prediction_type v_prediction)");
        };
    }

    private static void need(boolean ok, Denoiser.Prediction p, double t) {
        if (!ok) throw new IllegalArgumentException("flow: a " + p + " prediction gives no velocity at t = " + t
                + " (it divides by t or 1 - t there); use a VELOCITY denoiser");
    }

    static Denoiser.NoiseLevel level(double t) { return new Denoiser.NoiseLevel(t, 1 - t, t); }

    @Override
    public void run(Denoiser model, Tensor x, Noise noise, Workspace ws) {
        Tensor m1 = ws.like(x), m2 = method == Method.HEUN ? ws.like(x) : null, xt = method == Method.HEUN ? ws.like(x) : null;
        Denoiser.Prediction p = model.prediction();
        double h = 1.0 / steps;
        for (int k = 0; k < steps; k++) {
            double t = k * h, tn = (k + 1) * h;
            model.predict(m1, x, level(t));
            double[] v1 = velocity(p, t);
            double ex = 1 + h * v1[0], em = h * v1[1]; // Euler: x~ = ex x + em m1
            if (method == Method.EULER) {
                SamplerStep.step(x, x, m1, ex, em, 0, noise, 0);
                continue;
            }
            SamplerStep.step(xt, x, m1, ex, em, 0, noise, 0);
            model.predict(m2, xt, level(tn));
            double[] v2 = velocity(p, tn);
            // x' = x + h/2 [v1x x + v1m m1 + v2x (ex x + em m1) + v2m m2]
            double a = 1 + h / 2 * (v1[0] + v2[0] * ex), b = h / 2 * (v1[1] + v2[0] * em), c = h / 2 * v2[1];
            SamplerStep.step(x, x, m1, m2, a, b, c, 0, noise, 0);
        }
    }
}
