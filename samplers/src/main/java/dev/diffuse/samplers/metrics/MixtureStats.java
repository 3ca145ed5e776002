package dev.diffuse.samplers.metrics;

import java.util.stream.IntStream;

import dev.diffuse.samplers.gmm.GaussianMixture;

/**
 * Low-variance statistics of a sample set against a known mixture (MEASURING-SAMPLERS.md, point 2), each with its
 * standard error so that a test threshold can be "a few standard errors":
 * <ul>
 *   <li>{@link #meanLogDensity}: E_gen[log p(x)] under the exact clean density; over exact samples it estimates the
 *       negative entropy -H(p). SE = sd(log p(x_i)) / sqrt(n).
 *   <li>{@link #occupancy}: fraction of samples whose most responsible component is c, against w_c;
 *       SE_c = sqrt(w_c (1 - w_c) / n) under the hypothesis that samples come from p (for well-separated modes).
 *   <li>{@link #mean} and {@link #covariance}: sample moments; SE of mean_i = sqrt(cov_ii / n).
 * </ul>
 * Rows are float[] of dimension d = mixture.dim(); log densities are computed in double on the host.
 */
public final class MixtureStats {
    private MixtureStats() {}

    /** A mean and its standard error. */
    public record Estimate(double mean, double standardError) {
        /** (mean - target) / standardError. */
        public double z(double target) { return (mean - target) / standardError; }

        /** z-score of the difference of two independent estimates. */
        public double z(Estimate other) {
            return (mean - other.mean) / Math.sqrt(standardError * standardError + other.standardError * other.standardError);
        }
    }

    /** Per-component counts and fractions against the mixture weights. */
    public record Occupancy(int[] counts, double[] fraction, double[] weight, double[] standardError) {
        /** The largest |fraction_c - w_c| / SE_c. */
        public double maxAbsZ() {
            double m = 0;
            for (int c = 0; c < fraction.length; c++) m = Math.max(m, Math.abs(fraction[c] - weight[c]) / standardError[c]);
            return m;
        }

        /** Pearson chi^2 = sum_c (count_c - n w_c)^2 / (n w_c), with K - 1 degrees of freedom under the hypothesis. */
        public double chiSquare() {
            int n = 0;
            for (int c : counts) n += c;
            double chi = 0;
            for (int c = 0; c < counts.length; c++) {
                double e = n * weight[c];
                chi += (counts[c] - e) * (counts[c] - e) / e;
            }
            return chi;
        }
    }

    /** Mean of log p(x_i) (clean mixture) with its standard error. */
    public static Estimate meanLogDensity(GaussianMixture mixture, float[] samples) {
        int d = mixture.dim(), n = SlicedWasserstein.rows("samples", samples, d);
        double[] lp = new double[n];
        IntStream.range(0, n).parallel().forEach(r -> lp[r] = mixture.logDensity(row(samples, r, d)));
        return estimate(lp);
    }

    /** The target for {@link #meanLogDensity}: the same statistic over n exact samples (rows of seed's sequence). */
    public static Estimate exactMeanLogDensity(GaussianMixture mixture, int n, long seed) {
        return meanLogDensity(mixture, mixture.sample(n, seed));
    }

    /** Assigns each sample to argmax_c r_c(x) of the clean mixture and compares the fractions with the weights. */
    public static Occupancy occupancy(GaussianMixture mixture, float[] samples) {
        int d = mixture.dim(), n = SlicedWasserstein.rows("samples", samples, d), k = mixture.components();
        int[] assign = new int[n];
        IntStream.range(0, n).parallel().forEach(r -> {
            double[] resp = mixture.responsibilities(row(samples, r, d), 1, 0);
            int best = 0;
            for (int c = 1; c < k; c++) if (resp[c] > resp[best]) best = c;
            assign[r] = best;
        });
        int[] counts = new int[k];
        for (int a : assign) counts[a]++;
        double[] frac = new double[k], w = mixture.weights(), se = new double[k];
        for (int c = 0; c < k; c++) {
            frac[c] = (double) counts[c] / n;
            se[c] = Math.sqrt(w[c] * (1 - w[c]) / n);
            if (se[c] == 0) se[c] = Double.MIN_NORMAL; // K = 1: the fraction is always exactly 1
        }
        return new Occupancy(counts, frac, w, se);
    }

    /** Sample mean per coordinate. */
    public static double[] mean(float[] samples, int d) {
        int n = SlicedWasserstein.rows("samples", samples, d);
        double[] m = new double[d];
        for (int r = 0; r < n; r++) for (int i = 0; i < d; i++) m[i] += samples[r * d + i];
        for (int i = 0; i < d; i++) m[i] /= n;
        return m;
    }

    /** Unbiased sample covariance (divides by n - 1). */
    public static double[][] covariance(float[] samples, int d) {
        int n = SlicedWasserstein.rows("samples", samples, d);
        if (n < 2) throw new IllegalArgumentException("covariance needs >= 2 samples, got " + n);
        double[] m = mean(samples, d);
        double[][] c = new double[d][d];
        double[] t = new double[d];
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < d; i++) t[i] = samples[r * d + i] - m[i];
            for (int i = 0; i < d; i++) for (int j = 0; j <= i; j++) c[i][j] += t[i] * t[j];
        }
        for (int i = 0; i < d; i++)
            for (int j = 0; j <= i; j++) c[j][i] = c[i][j] /= (n - 1);
        return c;
    }

    /** Standard errors of the sample mean, sqrt(cov_ii / n), from a (true or sample) covariance. */
    public static double[] meanStandardErrors(double[][] covariance, int n) {
        double[] se = new double[covariance.length];
        for (int i = 0; i < se.length; i++) se[i] = Math.sqrt(covariance[i][i] / n);
        return se;
    }

    static Estimate estimate(double[] v) {
        int n = v.length;
        double mean = 0;
        for (double x : v) mean += x;
        mean /= n;
        double var = 0;
        for (double x : v) var += (x - mean) * (x - mean);
        var /= Math.max(1, n - 1);
        return new Estimate(mean, Math.sqrt(var / n));
    }

    private static double[] row(float[] x, int r, int d) {
        double[] out = new double[d];
        for (int i = 0; i < d; i++) out[i] = x[r * d + i];
        return out;
    }
}
