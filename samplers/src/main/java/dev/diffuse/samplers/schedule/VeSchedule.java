package dev.diffuse.samplers.schedule;

/**
 * The continuous variance-exploding SDE (Song et al. 2021): x_t = x_0 + sigma(t) eps with the geometric
 * sigma(t) = sigma_min (sigma_max / sigma_min)^t on t in [0, 1], i.e. dx = g(t) dw with
 * g(t)^2 = d sigma^2 / dt = 2 sigma(t)^2 ln(sigma_max / sigma_min).
 *
 * @param sigmaMin e.g. 0.01
 * @param sigmaMax about the largest distance between data points, e.g. 20 for the 2-D presets, 50 for CIFAR-10
 */
public record VeSchedule(double sigmaMin, double sigmaMax) {
    public VeSchedule {
        if (!(sigmaMin > 0 && sigmaMax > sigmaMin)) throw new IllegalArgumentException("need 0 < sigma_min < sigma_max, got " + sigmaMin + ", " + sigmaMax);
    }

    public double sigma(double t) { return sigmaMin * Math.pow(sigmaMax / sigmaMin, t); }

    /** g(t)^2 = d sigma(t)^2 / dt. */
    public double g2(double t) {
        double s = sigma(t);
        return 2 * s * s * Math.log(sigmaMax / sigmaMin);
    }

    /** Geometric levels sigma_1 = sigma_max > ... > sigma_L = sigma_min (annealed Langevin's noise levels). */
    public double[] geometricLevels(int levels) {
        if (levels < 1) throw new IllegalArgumentException("need at least one noise level, got " + levels);
        double[] s = new double[levels];
        for (int i = 0; i < levels; i++) s[i] = levels == 1 ? sigmaMin : sigma(1 - i / (double) (levels - 1));
        return s;
    }
}
