package dev.diffuse.samplers.schedule;

/**
 * A discrete DDPM noise schedule: betas and alpha_bar (alphas_cumprod) for t = 0..N-1, computed on the host as
 * diffusers does (spec §6.2): alpha_i = f32(1 - beta_i), cumulative product accumulated in double and rounded to
 * float32 after each step. x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps.
 *
 * @param betas      beta_t, e.g. 1e-4 .. 0.02 for "linear"
 * @param alphasCumprod alpha_bar_t (float32 values)
 */
public record DiscreteSchedule(BetaSchedule kind, double[] betas, double[] alphasCumprod) {

    /** diffusers' defaults: linear, 1000 steps, beta 1e-4 .. 0.02. */
    public static DiscreteSchedule ddpmDefault() { return of(BetaSchedule.LINEAR, 1000, 1e-4, 0.02); }

    public static DiscreteSchedule of(BetaSchedule kind, int n, double betaStart, double betaEnd) {
        if (!(betaStart > 0 && betaEnd > betaStart && betaEnd < 1) && kind != BetaSchedule.SQUAREDCOS_CAP_V2)
            throw new IllegalArgumentException("beta_start and beta_end must satisfy 0 < start < end < 1, got " + betaStart + ", " + betaEnd);
        double[] betas = kind.betas(n, betaStart, betaEnd);
        double[] ac = new double[n];
        double acc = 1.0;
        for (int i = 0; i < n; i++) {
            acc *= (float) (1 - betas[i]);
            ac[i] = (float) acc;
        }
        return new DiscreteSchedule(kind, betas, ac);
    }

    public int trainSteps() { return betas.length; }

    /** alpha_bar at t; 1 for t < 0 (the "previous" of the last step, set_alpha_to_one). */
    public double alphaBar(int t) { return t < 0 ? 1.0 : alphasCumprod[t]; }

    /**
     * "leading" timesteps (diffusers' default): r = N / S (integer), t = (S-1) r, ..., r, 0, plus steps_offset.
     * E.g. N = 1000, S = 50: 980, 960, ..., 0.
     */
    public int[] leadingTimesteps(int steps, int stepsOffset) {
        int n = trainSteps();
        if (steps < 1 || steps > n) throw new IllegalArgumentException("steps must be in 1.." + n + ", got " + steps);
        int r = n / steps;
        int[] ts = new int[steps];
        for (int i = 0; i < steps; i++) ts[i] = (steps - 1 - i) * r + stepsOffset;
        return ts;
    }

    /**
     * The (fractional) timestep whose noise level matches x_t = s x_0 + sigma eps, found by the log-SNR
     * lambda = log(s^2 / sigma^2) = log(alpha_bar / (1 - alpha_bar)), which falls monotonically with t: linear
     * interpolation between the two table entries around lambda, clamped to [0, N-1]. On a table entry it returns that
     * t; between entries it is what lets a network trained on discrete timesteps serve continuous-time samplers.
     */
    public double timestepOf(double s, double sigma) {
        if (!(sigma > 0)) return 0;
        if (!(s > 0)) return trainSteps() - 1;
        double lambda = Math.log(s * s / (sigma * sigma));
        int n = trainSteps();
        double prev = lambdaAt(0);
        if (lambda >= prev) return 0;
        for (int i = 1; i < n; i++) {
            double cur = lambdaAt(i);
            if (lambda >= cur) return i - 1 + (prev - lambda) / (prev - cur);
            prev = cur;
        }
        return n - 1;
    }

    private double lambdaAt(int t) {
        double a = alphasCumprod[t];
        return Math.log(a / (1 - a));
    }
}
