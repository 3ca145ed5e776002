package dev.diffuse.samplers.gmm;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

import dev.diffuse.runtime.Philox;

/**
 * Named test distributions. Component k carries label k in every preset (one class per mode), so
 * {@code conditional(k)} is mode k alone. Names are frozen once published.
 * <ul>
 *   <li>{@code ring8}: 2-D, 8 equal modes on a circle of radius 4, each N(., 0.3^2 I). The default.
 *   <li>{@code aniso2d}: 2-D, 4 modes, weights 0.4/0.3/0.2/0.1, correlated anisotropic covariances.
 *   <li>{@code gmm16d}, {@code gmm32d}, {@code gmm64d}: d-D, 6 modes, seeded random means, SPD covariances and
 *       weights ({@link #random}).
 * </ul>
 */
public final class MixturePresets {
    public static final String DEFAULT = "ring8";
    private static final Map<String, Supplier<GaussianMixture>> PRESETS = new LinkedHashMap<>();

    static {
        PRESETS.put("ring8", MixturePresets::ring8);
        PRESETS.put("aniso2d", MixturePresets::aniso2d);
        PRESETS.put("gmm16d", () -> random(16, 6, 16));
        PRESETS.put("gmm32d", () -> random(32, 6, 32));
        PRESETS.put("gmm64d", () -> random(64, 6, 64));
    }

    private MixturePresets() {}

    /** The preset called {@code name}; the error lists the valid names. */
    public static GaussianMixture byName(String name) {
        Supplier<GaussianMixture> s = PRESETS.get(name);
        if (s == null) throw new IllegalArgumentException("unknown mixture preset '" + name + "'; valid names: " + String.join(", ", names()));
        return s.get();
    }

    public static java.util.List<String> names() { return java.util.List.copyOf(PRESETS.keySet()); }

    public static GaussianMixture defaultPreset() { return byName(DEFAULT); }

    /** 8 modes N((4 cos(2 pi k/8), 4 sin(2 pi k/8)), 0.3^2 I), equal weights. */
    public static GaussianMixture ring8() {
        int k = 8;
        double[] w = new double[k], std = new double[k];
        double[][] mu = new double[k][];
        int[] labels = new int[k];
        for (int c = 0; c < k; c++) {
            double a = 2 * Math.PI * c / k;
            mu[c] = new double[]{4 * Math.cos(a), 4 * Math.sin(a)};
            w[c] = 1;
            std[c] = 0.3;
            labels[c] = c;
        }
        return GaussianMixture.isotropic(w, mu, std, labels);
    }

    /** 4 anisotropic, correlated modes with unequal weights. */
    public static GaussianMixture aniso2d() {
        return GaussianMixture.of(
                new double[]{0.4, 0.3, 0.2, 0.1},
                new double[][]{{-2.5, -1.0}, {2.0, -2.0}, {0.0, 2.5}, {3.0, 2.5}},
                new double[][][]{
                        {{0.60, 0.45}, {0.45, 0.50}},
                        {{0.20, -0.10}, {-0.10, 0.80}},
                        {{1.00, 0.00}, {0.00, 0.10}},
                        {{0.15, 0.10}, {0.10, 0.30}}},
                new int[]{0, 1, 2, 3});
    }

    /**
     * K modes in d dimensions from Philox stream 0 under {@code seed}: means mu_k = 1.5 * N(0, I) (pairwise distances
     * about 1.5 sqrt(2d), several standard deviations), covariances Sigma_k = 0.5 A A^T / d + 0.05 I with A a d x d
     * standard normal matrix (eigenvalues roughly 0.05 .. 2), weights proportional to 0.5 + U(0, 1).
     */
    public static GaussianMixture random(int d, int k, long seed) {
        long[] next = {0};
        java.util.function.DoubleSupplier normal = () -> Philox.normal(seed, 0, next[0]++);
        double[] w = new double[k];
        double[][] mu = new double[k][d];
        double[][][] cov = new double[k][d][d];
        int[] labels = new int[k];
        for (int c = 0; c < k; c++) {
            labels[c] = c;
            w[c] = 0.5 + Philox.uniform(seed, 1, c);
            for (int i = 0; i < d; i++) mu[c][i] = 1.5 * normal.getAsDouble();
            double[][] a = new double[d][d];
            for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) a[i][j] = normal.getAsDouble();
            for (int i = 0; i < d; i++)
                for (int j = 0; j <= i; j++) {
                    double sum = 0;
                    for (int t = 0; t < d; t++) sum += a[i][t] * a[j][t];
                    cov[c][i][j] = cov[c][j][i] = 0.5 * sum / d + (i == j ? 0.05 : 0);
                }
        }
        return GaussianMixture.of(w, mu, cov, labels);
    }
}
