package dev.diffuse.samplers.pipeline;

import dev.diffuse.kernels.diffusion.SamplerStep;
import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.schedule.KarrasSchedule;

/**
 * EDM sampling (Karras, Aittala, Aila, Laine 2022, Algorithm 2) in the VE parameterisation x = x_0 + sigma eps on
 * the {@link KarrasSchedule} levels sigma_0 > ... > sigma_{N-1} > sigma_N = 0. The ODE is dx/dsigma = (x - D(x, sigma))
 * / sigma with the denoiser D = x - sigma eps_hat, i.e. dx/dsigma = eps_hat(x, sigma). Step i:
 * <pre>
 *   gamma = min(S_churn / N, sqrt 2 - 1) if S_tmin <= sigma_i <= S_tmax else 0;   sigma^ = (1 + gamma) sigma_i
 *   x^    = x + sqrt(sigma^^2 - sigma_i^2) S_noise z                         (churn: back up the noise level)
 *   d     = eps_hat(x^, sigma^);   x' = x^ + (sigma_{i+1} - sigma^) d          (Euler)
 *   if sigma_{i+1} > 0:  d' = eps_hat(x', sigma_{i+1});  x' = x^ + (sigma_{i+1} - sigma^) (d + d') / 2   (Heun)
 * </pre>
 * The last step (to sigma = 0) is Euler: it returns the denoised D(x^, sigma^). eps_hat is affine in (x, m) for every
 * prediction type ({@link Epsilon}), so Heun's two stages fold into one fused update over (x, m1, m2) as in
 * {@link OdeSampler}, and the churn noise of step i + 1 rides in step i's final update (stream i + 2 = the stream of
 * step i + 1): per step one pass for the predictor state and one for the update. The denoiser is called at
 * scale 1 with timestep = sigma (a network trained on another parameterisation needs an adapter).
 *
 * @param heun   false gives EDM's Euler (first order), for comparison
 * @param sChurn 0 gives the deterministic sampler; EDM's ImageNet-64 setting is S_churn = 40, S_tmin = 0.05,
 *               S_tmax = 50, S_noise = 1.003
 */
public record EdmSampler(KarrasSchedule schedule, int steps, boolean heun, double sChurn, double sTmin, double sTmax, double sNoise)
        implements Sampler {
    public EdmSampler {
        if (steps < 1) throw new IllegalArgumentException("edm: steps must be >= 1, got " + steps);
        if (!(sChurn >= 0 && sNoise >= 0 && sTmax >= sTmin))
            throw new IllegalArgumentException("edm: need S_churn >= 0, S_noise >= 0, S_tmin <= S_tmax, got " + sChurn + ", " + sNoise + ", [" + sTmin + ", " + sTmax + "]");
    }

    /** The deterministic sampler. */
    public static EdmSampler deterministic(KarrasSchedule schedule, int steps, boolean heun) {
        return new EdmSampler(schedule, steps, heun, 0, 0, Double.POSITIVE_INFINITY, 1);
    }

    @Override public String name() { return !heun ? "edm-euler" : sChurn > 0 ? "edm-churn" : "edm-heun"; }

    /** Heun: 2 per step except the last (Euler) one. */
    @Override public int evaluations() { return heun ? 2 * steps - 1 : steps; }

    @Override public boolean deterministic() { return sChurn == 0; }

    @Override public double priorStd() { return schedule.sigmaMax(); }

    private double gamma(double sigma) {
        return sChurn > 0 && sigma >= sTmin && sigma <= sTmax ? Math.min(sChurn / steps, Math.sqrt(2) - 1) : 0;
    }

    /** The standard deviation of step i's churn noise: sqrt(sigma^^2 - sigma_i^2) S_noise (0 when it has none). */
    private double churnStd(double[] sigmas, int i) {
        if (i >= steps) return 0;
        double s = sigmas[i], hat = (1 + gamma(s)) * s;
        return Math.sqrt(hat * hat - s * s) * sNoise;
    }

    @Override
    public void run(Denoiser model, Tensor x, Noise noise, Workspace ws) {
        Scratch s = new Scratch(ws, x, heun);
        double[] sig = schedule.sigmas(steps);
        Denoiser.Prediction p = model.prediction();
        double c0 = churnStd(sig, 0);
        if (c0 > 0) SamplerStep.step(x, x, x, 1, 0, c0, noise, Scratch.stream(0));
        for (int i = 0; i < steps; i++) {
            double si = sig[i], sn = sig[i + 1];
            double hat = (1 + gamma(si)) * si;
            double next = churnStd(sig, i + 1); // noise of step i + 1, added in this step's final pass
            model.predict(s.m1, x, level(hat));
            Lin d1 = Lin.eps1(Epsilon.affine(p, 1, hat));
            Lin euler = Lin.X.plus(d1.times(sn - hat));
            if (!heun || sn == 0) {
                s.update(x, x, euler, next, noise, Scratch.stream(i + 1));
                continue;
            }
            s.update(s.xt, x, euler, 0, noise, 0);
            model.predict(s.m2, s.xt, level(sn));
            double[] e2 = Epsilon.affine(p, 1, sn);
            Lin d2OverX = euler.times(e2[0]).plus(new Lin(0, 0, e2[1]));  // d' = e2x x' + e2m m2 with x' = euler
            s.update(x, x, Lin.X.plus(d1.plus(d2OverX).times((sn - hat) / 2)), next, noise, Scratch.stream(i + 1));
        }
    }

    private static Denoiser.NoiseLevel level(double sigma) { return new Denoiser.NoiseLevel(1, sigma, sigma); }
}
