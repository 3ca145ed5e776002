package dev.diffuse.samplers.schedule;

/**
 * The continuous variance-preserving SDE (Song et al. 2021): dx = -1/2 beta(t) x dt + sqrt(beta(t)) dw on t in
 * [0, 1] with beta(t) = beta_min + t (beta_max - beta_min). Integrating, the marginal is
 * x_t = sqrt(alpha_bar(t)) x_0 + sqrt(1 - alpha_bar(t)) eps with
 * alpha_bar(t) = exp(-(beta_min t + (beta_max - beta_min) t^2 / 2)).
 *
 * @param betaMin e.g. 0.1
 * @param betaMax e.g. 20 (the continuous limit of DDPM's linear 1e-4..0.02 over 1000 steps)
 * @param tEnd    the smallest time integrated to, e.g. 1e-3 (the SDE is singular at t = 0)
 */
public record VpSchedule(double betaMin, double betaMax, double tEnd) {
    public VpSchedule {
        if (!(betaMin > 0 && betaMax > betaMin)) throw new IllegalArgumentException("need 0 < beta_min < beta_max, got " + betaMin + ", " + betaMax);
        if (!(tEnd > 0 && tEnd < 1)) throw new IllegalArgumentException("t_end must be in (0, 1), got " + tEnd);
    }

    public static VpSchedule standard() { return new VpSchedule(0.1, 20, 1e-3); }

    public double beta(double t) { return betaMin + t * (betaMax - betaMin); }

    public double alphaBar(double t) { return Math.exp(-(betaMin * t + 0.5 * (betaMax - betaMin) * t * t)); }

    /** sqrt(alpha_bar(t)). */
    public double scale(double t) { return Math.sqrt(alphaBar(t)); }

    /** sqrt(1 - alpha_bar(t)), computed with expm1 so it stays accurate at small t. */
    public double sigma(double t) { return Math.sqrt(-Math.expm1(-(betaMin * t + 0.5 * (betaMax - betaMin) * t * t))); }
}
