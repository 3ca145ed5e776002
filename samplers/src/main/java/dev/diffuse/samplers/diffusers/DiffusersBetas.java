package dev.diffuse.samplers.diffusers;

import dev.diffuse.samplers.schedule.BetaSchedule;

/**
 * Betas and alphas_cumprod exactly as diffusers' __init__ computes them (spec §6.1-6.2): float32 values held in
 * doubles. linear / scaled_linear / squaredcos_cap_v2 reuse {@link BetaSchedule}; sigmoid and trained_betas and the
 * zero-terminal-SNR rescale (Lin et al. 2024) are here.
 */
public final class DiffusersBetas {
    private DiffusersBetas() {}

    public static double[] betas(SchedulerConfig c) {
        int n = c.numTrainTimesteps();
        double[] b;
        if (c.trainedBetas() != null) {
            b = new double[n];
            for (int i = 0; i < n; i++) b[i] = (float) c.trainedBetas()[i];
        } else if (c.betaSchedule().equals("sigmoid")) {
            // sigmoid(linspace(-6, 6, N)) * (end - start) + start, in float32
            b = new double[n];
            float lo = -6f, step = 12f / (n - 1);
            float range = (float) c.betaEnd() - (float) c.betaStart();
            for (int i = 0; i < n; i++) {
                float u = i < n / 2 ? lo + step * i : 6f - step * (n - 1 - i);
                float sig = (float) (1 / (1 + Math.exp(-u)));
                b[i] = sig * range + (float) c.betaStart();
            }
        } else {
            b = BetaSchedule.byName(c.betaSchedule()).betas(n, c.betaStart(), c.betaEnd());
        }
        return c.rescaleBetasZeroSnr() ? rescaleZeroTerminalSnr(b) : b;
    }

    /**
     * Lin et al. 2024, Algorithm 1: shift and scale sqrt(alpha_bar) so that its last entry is 0 and its first is
     * unchanged, then recover the betas: q = sqrt(cumprod(1 - beta)); q = (q - q_T) q_0 / (q_0 - q_T); a = q^2;
     * alpha_0 = a_0, alpha_i = a_i / a_{i-1}; beta = 1 - alpha. The last beta becomes 1 (alpha_bar_T = 0).
     */
    static double[] rescaleZeroTerminalSnr(double[] betas) {
        int n = betas.length;
        double[] q = new double[n];
        double acc = 1;
        for (int i = 0; i < n; i++) {
            acc *= (float) (1 - betas[i]);
            q[i] = Math.sqrt((float) acc);
        }
        double q0 = q[0], qt = q[n - 1];
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            double v = (q[i] - qt) * q0 / (q0 - qt);
            a[i] = v * v;
        }
        double[] out = new double[n];
        for (int i = 0; i < n; i++) out[i] = (float) (1 - (i == 0 ? a[0] : a[i] / a[i - 1]));
        return out;
    }

    /** alpha_i = f32(1 - beta_i); the product accumulates in double and is stored as float32 after each step. */
    public static double[] alphasCumprod(double[] betas) {
        double[] ac = new double[betas.length];
        double acc = 1.0;
        for (int i = 0; i < betas.length; i++) {
            acc *= (float) (1 - betas[i]);
            ac[i] = (float) acc;
        }
        return ac;
    }
}
