package dev.diffuse.samplers.pipeline;

import dev.diffuse.kernels.diffusion.SamplerCombine;
import dev.diffuse.kernels.diffusion.SamplerStep;
import dev.diffuse.kernels.reduce.Reduce;
import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.schedule.Sde;
import dev.diffuse.samplers.schedule.VeSde;
import dev.diffuse.samplers.schedule.VpSde;

/**
 * Predictor-corrector sampling (Song et al. 2021, Algorithms 2 (VE) and 3 (VP)) on the uniform grid
 * t_k = 1 - k h, h = (1 - t_end) / N. Step k predicts from t_k to t_{k+1}, then runs M Langevin corrections at t_{k+1}:
 * <pre>
 *   reverse diffusion, VE:  x' = x + (sigma_k^2 - sigma_{k+1}^2) score_k + sqrt(sigma_k^2 - sigma_{k+1}^2) z
 *   reverse diffusion, VP:  x' = (2 - sqrt(1 - b)) x + b score_k + sqrt(b) z,   1 - b = alpha_bar_k / alpha_bar_{k+1}
 *   Euler-Maruyama:         x' = (1 - h f) x + h g^2 score_k + sqrt(g^2 h) z
 *   Langevin corrector:     eps = 2 alpha (r ||z|| / ||score||)^2,   x <- x + eps score + sqrt(2 eps) z
 * </pre>
 * with score = -eps_hat / sigma, target signal-to-noise ratio r and alpha = alpha_bar_k / alpha_bar_{k+1} on VP (Song's
 * discrete alpha_i = 1 - beta_i, which is 1 - beta(t) h at fine steps and stays in (0, 1] at coarse ones), 1 on VE. The step size depends on the data: ||z||^2 and ||score||^2 are deterministic device reductions
 * ({@link Reduce#sumSquares}) into 1-element tensors that the corrector kernel ({@link SamplerCombine#langevinCorrect})
 * reads, so nothing returns to the host. The norms are over the whole batch (Song's code averages per-sample norms;
 * for a batch of iid samples the ratio of totals and the mean of per-sample ratios agree to O(1/batch)).
 * Per correction: z is drawn into a tensor (stream 2^32 + k M + j), and when the prediction type makes the score
 * depend on x as well (X0, V, VELOCITY) the score is materialised once for its norm.
 *
 * @param corrections M, e.g. 1
 * @param snr         r, e.g. 0.16 (Song et al.'s CIFAR-10 VE setting)
 */
public record PredictorCorrectorSampler(Sde sde, int steps, Predictor predictor, int corrections, double snr) implements Sampler {
    public enum Predictor { REVERSE_DIFFUSION, EULER_MARUYAMA }

    public PredictorCorrectorSampler {
        if (steps < 1 || corrections < 0) throw new IllegalArgumentException("pc: need steps >= 1 and corrections >= 0, got " + steps + ", " + corrections);
        if (!(snr > 0)) throw new IllegalArgumentException("pc: the target signal-to-noise ratio must be > 0 (e.g. 0.16), got " + snr);
    }

    @Override public String name() { return "pc-" + sde.name(); }

    @Override public int evaluations() { return steps * (1 + corrections); }

    /** The corrector's step size uses norms over the whole batch. */
    @Override public boolean rowIndependent() { return corrections == 0; }

    @Override public double priorStd() { return sde.priorStd(); }

    /** Stream of correction j of step k (above 2^32, clear of the step streams). */
    static long correctorStream(int k, int j, int corrections) { return (1L << 32) + (long) k * corrections + j; }

    @Override
    public void run(Denoiser model, Tensor x, Noise noise, Workspace ws) {
        Scratch s = new Scratch(ws, x, false);
        Tensor z = corrections > 0 ? ws.like(x) : null, g = null;
        Tensor ssZ = ws.tensor(1), ssG = ws.tensor(1);
        Denoiser.Prediction p = model.prediction();
        double h = (1 - sde.tEnd()) / steps;
        for (int k = 0; k < steps; k++) {
            double t = 1 - k * h, tn = Math.max(sde.tEnd(), t - h);
            model.predict(s.m1, x, level(t));
            Lin score = score(p, t);
            Lin update;
            double std;
            if (predictor == Predictor.EULER_MARUYAMA) {
                double g2 = sde.g2(t);
                update = Lin.X.times(1 - h * sde.drift(t)).plus(score.times(h * g2));
                std = Math.sqrt(g2 * h);
            } else {
                switch (sde) {
                    case VeSde _ -> {
                        double d = sde.sigma(t) * sde.sigma(t) - sde.sigma(tn) * sde.sigma(tn);
                        update = Lin.X.plus(score.times(d));
                        std = Math.sqrt(d);
                    }
                    case VpSde _ -> {
                        double r = sde.scale(t) / sde.scale(tn), b = 1 - r * r;     // sqrt(1 - b) = s_k / s_{k+1}
                        update = Lin.X.times(2 - r).plus(score.times(b));
                        std = Math.sqrt(b);
                    }
                }
            }
            s.update(x, x, update, std, noise, Scratch.stream(k));
            double ratio = sde.scale(tn) / sde.scale(t), alpha = sde instanceof VpSde ? ratio * ratio : 1;
            Lin sc = score(p, tn);
            for (int j = 0; j < corrections; j++) {
                model.predict(s.m1, x, level(tn));
                Rng.fillNormal(z, noise, correctorStream(k, j, corrections), 0f, 1f);
                Reduce.sumSquares(ssZ, z);
                double twoAlphaR2 = 2 * alpha * snr * snr;
                if (sc.x() == 0) {                                   // score = c m: ||score||^2 = c^2 ||m||^2
                    Reduce.sumSquares(ssG, s.m1);
                    SamplerCombine.langevinCorrect(x, x, s.m1, z, ssZ, ssG, 0, sc.m1(), sc.m1() * sc.m1(), twoAlphaR2);
                } else {
                    if (g == null) g = ws.like(x);
                    SamplerStep.step(g, x, s.m1, sc.x(), sc.m1(), 0, noise, 0);
                    Reduce.sumSquares(ssG, g);
                    SamplerCombine.langevinCorrect(x, x, g, z, ssZ, ssG, 0, 1, 1, twoAlphaR2);
                }
            }
        }
    }

    /** score = -eps_hat / sigma at t, over (x, m1). */
    private Lin score(Denoiser.Prediction p, double t) {
        double sigma = sde.sigma(t);
        return Lin.eps1(Epsilon.affine(p, sde.scale(t), sigma)).times(-1 / sigma);
    }

    private Denoiser.NoiseLevel level(double t) { return new Denoiser.NoiseLevel(sde.scale(t), sde.sigma(t), t); }
}
