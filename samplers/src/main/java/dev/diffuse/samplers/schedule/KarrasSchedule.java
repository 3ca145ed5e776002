package dev.diffuse.samplers.schedule;

/**
 * The noise levels of Karras, Aittala, Aila and Laine (2022, eq. 5): N levels spaced uniformly in sigma^(1/rho),
 * <pre>  sigma_i = (sigma_max^(1/rho) + i / (N - 1) (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho,  i = 0..N-1,  sigma_N = 0</pre>
 * rho = 7 concentrates the steps at small sigma, where the ODE's curvature is (rho = 1 is uniform, rho -> infinity
 * geometric). Levels are in the VE parameterisation x = x_0 + sigma eps.
 *
 * @param sigmaMin e.g. 0.002
 * @param sigmaMax e.g. 80 (EDM's images), 20 for the 2-D presets
 * @param rho      e.g. 7
 */
public record KarrasSchedule(double sigmaMin, double sigmaMax, double rho) {
    public KarrasSchedule {
        if (!(sigmaMin > 0 && sigmaMax > sigmaMin)) throw new IllegalArgumentException("karras: need 0 < sigma_min < sigma_max, got " + sigmaMin + ", " + sigmaMax);
        if (!(rho > 0)) throw new IllegalArgumentException("karras: rho must be > 0 (EDM uses 7), got " + rho);
    }

    public static KarrasSchedule of(double sigmaMin, double sigmaMax) { return new KarrasSchedule(sigmaMin, sigmaMax, 7); }

    /** The N + 1 levels sigma_0 = sigma_max > ... > sigma_{N-1} = sigma_min > sigma_N = 0 (N = 1: sigma_max, 0). */
    public double[] sigmas(int n) {
        if (n < 1) throw new IllegalArgumentException("karras: need at least one step, got " + n);
        double[] s = new double[n + 1];
        double a = Math.pow(sigmaMax, 1 / rho), b = Math.pow(sigmaMin, 1 / rho);
        for (int i = 0; i < n; i++) s[i] = n == 1 ? sigmaMax : Math.pow(a + i / (double) (n - 1) * (b - a), rho);
        s[n] = 0;
        return s;
    }
}
