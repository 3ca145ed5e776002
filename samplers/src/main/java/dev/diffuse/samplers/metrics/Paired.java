package dev.diffuse.samplers.metrics;

/**
 * Sample-by-sample comparisons of two runs from the same starting noise (MEASURING-SAMPLERS.md, points 1 and 4):
 * a solver at N steps against a high-accuracy reference from the same x_T, or one sampler on two devices. No
 * sampling noise enters, so the error and the empirical order are clean.
 */
public final class Paired {
    private Paired() {}

    /** RMS over rows of the Euclidean distance between row r of a and row r of b: sqrt(mean_r |a_r - b_r|^2). */
    public static double rmsDistance(float[] a, float[] b, int d) {
        int n = SlicedWasserstein.rows("a", a, d);
        if (b.length != a.length)
            throw new IllegalArgumentException("paired sets must have equal sizes: " + a.length + " and " + b.length + " values");
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            double t = (double) a[i] - b[i];
            sum += t * t;
        }
        return Math.sqrt(sum / n);
    }

    /** Largest |a_i - b_i| over all coordinates. */
    public static double maxAbsDifference(float[] a, float[] b) {
        if (b.length != a.length)
            throw new IllegalArgumentException("paired sets must have equal sizes: " + a.length + " and " + b.length + " values");
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs((double) a[i] - b[i]));
        return m;
    }

    /** Empirical order of convergence between step counts N and 2N: log2(err(N) / err(2N)). */
    public static double order(double errN, double err2N) {
        return Math.log(errN / err2N) / Math.log(2);
    }
}
