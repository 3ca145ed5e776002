package dev.diffuse.models.distill;

import dev.diffuse.samplers.schedule.DiscreteSchedule;

/**
 * The consistency function of a student distilled from an epsilon teacher on the DDPM schedule (latent consistency
 * models' parameterisation, Luo et al. 2023): the network keeps the teacher's epsilon output, read through
 * <pre>
 *   f(x, t) = c_skip(t) x + c_out(t) x0(x, t),   x0 = (x - sqrt(1 - ab_t) eps(x, t)) / sqrt(ab_t)
 *   c_skip(t) = sd^2 / ((k t)^2 + sd^2),   c_out(t) = k t / sqrt((k t)^2 + sd^2),   k = 10, sd = sigma_data = 0.5
 * </pre>
 * so f(x, 0) = x (the boundary condition) and for t &gt;= 40 f is the network's x0 up to 2e-6. Written as one affine
 * map of (x, eps), f = a x + b eps with a = c_skip + c_out / sqrt(ab_t), b = -c_out sqrt(1 - ab_t) / sqrt(ab_t), it is
 * one fused kernel per batch (QSample.apply with per-sample a, b) and its gradient w.r.t. eps is b.
 */
public final class DdpmConsistency {
    /** LCM's timestep scaling k. */
    public static final double TIMESTEP_SCALING = 10;
    public static final double SIGMA_DATA = 0.5;

    private DdpmConsistency() {}

    public static double cSkip(double t, double sd) {
        double kt = TIMESTEP_SCALING * t;
        return sd * sd / (kt * kt + sd * sd);
    }

    public static double cOut(double t, double sd) {
        double kt = TIMESTEP_SCALING * t;
        return kt / Math.sqrt(kt * kt + sd * sd);
    }

    /** {a, b} with f(x, t) = a x + b eps(x, t) at the integer timestep t of {@code schedule}. */
    public static double[] coefficients(DiscreteSchedule schedule, int t, double sd) {
        double ab = schedule.alphaBar(t), s = Math.sqrt(ab), sigma = Math.sqrt(1 - ab), co = cOut(t, sd);
        return new double[]{cSkip(t, sd) + co / s, -co * sigma / s};
    }
}
