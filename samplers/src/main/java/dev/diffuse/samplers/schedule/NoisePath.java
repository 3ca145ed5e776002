package dev.diffuse.samplers.schedule;

/**
 * A VP noise path as N + 1 nodes (scale s_k, sigma_k, network timestep) with s_k^2 + sigma_k^2 = 1, walked from
 * k = 0 (most noise) to k = N; the last node may be clean (s = 1, sigma = 0). Exponential integrators (DPM-Solver)
 * step in the half log-SNR lambda = log(s / sigma), which is +infinity at a clean node.
 *
 * @param continuous the continuous schedule the nodes come from (then midpoints get exact times), or null for a
 *                   discrete one (midpoint timesteps are interpolated linearly in lambda)
 */
public record NoisePath(double[] scale, double[] sigma, double[] timestep, VpSchedule continuous) {
    public NoisePath {
        if (scale.length < 2 || sigma.length != scale.length || timestep.length != scale.length)
            throw new IllegalArgumentException("noise path: need at least 2 nodes with scale, sigma and timestep each, got "
                    + scale.length + ", " + sigma.length + ", " + timestep.length);
    }

    /** Steps N (one less than the nodes). */
    public int steps() { return scale.length - 1; }

    public double lambda(int k) { return sigma[k] == 0 ? Double.POSITIVE_INFINITY : Math.log(scale[k] / sigma[k]); }

    /** lambda(t) = -1/2 log(e^B - 1) for alpha_bar = e^-B, B = beta_min t + (beta_max - beta_min) t^2 / 2. */
    public static double lambda(VpSchedule vp, double t) { return Math.log(vp.scale(t) / vp.sigma(t)); }

    /** The inverse: B = log(1 + e^(-2 lambda)), then t solves the quadratic B(t) = B. */
    public static double timeOfLambda(VpSchedule vp, double lambda) {
        double b = Math.log1p(Math.exp(-2 * lambda)), d = vp.betaMax() - vp.betaMin();
        return (-vp.betaMin() + Math.sqrt(vp.betaMin() * vp.betaMin() + 2 * d * b)) / d;
    }

    /** N steps uniform in lambda from t = 1 to t_end (DPM-Solver's "logSNR" grid). */
    public static NoisePath vpLogSnr(VpSchedule vp, int steps) {
        if (steps < 1) throw new IllegalArgumentException("noise path: need at least one step, got " + steps);
        double l0 = lambda(vp, 1), l1 = lambda(vp, vp.tEnd());
        double[] s = new double[steps + 1], g = new double[steps + 1], t = new double[steps + 1];
        for (int k = 0; k <= steps; k++) {
            t[k] = k == 0 ? 1 : k == steps ? vp.tEnd() : timeOfLambda(vp, l0 + k * (l1 - l0) / steps);
            s[k] = vp.scale(t[k]);
            g[k] = vp.sigma(t[k]);
        }
        return new NoisePath(s, g, t, vp);
    }

    /** A discrete schedule's "leading" timesteps (as DDIM walks them) and a final clean node (alpha_bar = 1). */
    public static NoisePath discreteLeading(DiscreteSchedule d, int steps) { return discrete(d, d.leadingTimesteps(steps, 0)); }

    /**
     * N timesteps round((T - 1)(1 - k / (N - 1))) from T - 1 down to 0, then a clean node: every N walks the same ODE
     * from alpha_bar_{T-1} to the data (N = T visits every timestep), so solutions at different N are comparable.
     */
    public static NoisePath discreteFull(DiscreteSchedule d, int steps) {
        if (steps < 2 || steps > d.trainSteps()) throw new IllegalArgumentException("noise path: steps must be in 2.." + d.trainSteps() + ", got " + steps);
        int[] ts = new int[steps];
        for (int k = 0; k < steps; k++) ts[k] = (int) Math.round((d.trainSteps() - 1) * (1 - k / (double) (steps - 1)));
        return discrete(d, ts);
    }

    /** The given descending timesteps of a discrete schedule and a final clean node. */
    public static NoisePath discrete(DiscreteSchedule d, int[] ts) {
        int steps = ts.length;
        double[] s = new double[steps + 1], g = new double[steps + 1], t = new double[steps + 1];
        for (int k = 0; k <= steps; k++) {
            int tk = k < steps ? ts[k] : -1;
            double ab = d.alphaBar(tk);
            s[k] = Math.sqrt(ab);
            g[k] = Math.sqrt(1 - ab);
            t[k] = tk;
        }
        return new NoisePath(s, g, t, null);
    }

    /** The node at lambda = lambda_k + r (lambda_{k+1} - lambda_k), 0 < r < 1, as {scale, sigma, timestep}. */
    public double[] between(int k, double r) {
        double lk = lambda(k), ln = lambda(k + 1);
        if (Double.isInfinite(ln)) throw new IllegalArgumentException("noise path: no intermediate lambda before a clean node");
        double l = lk + r * (ln - lk);
        if (continuous != null) {
            double t = timeOfLambda(continuous, l);
            return new double[]{continuous.scale(t), continuous.sigma(t), t};
        }
        // VP: s^2 = sigmoid(2 lambda), sigma^2 = sigmoid(-2 lambda)
        return new double[]{Math.sqrt(1 / (1 + Math.exp(-2 * l))), Math.sqrt(1 / (1 + Math.exp(2 * l))), timestep[k] + r * (timestep[k + 1] - timestep[k])};
    }
}
