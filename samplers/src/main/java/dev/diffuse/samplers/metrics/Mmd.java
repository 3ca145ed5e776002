package dev.diffuse.samplers.metrics;

import java.util.Arrays;
import java.util.stream.IntStream;

import dev.diffuse.runtime.Philox;

/**
 * Squared maximum mean discrepancy with the RBF kernel k(x, y) = exp(-|x - y|^2 / (2 h^2)), unbiased estimator:
 * <pre>  MMD^2 = 1/(n(n-1)) sum_{i != i'} k(a_i, a_i') + 1/(m(m-1)) sum_{j != j'} k(b_j, b_j') - 2/(nm) sum_{i,j} k(a_i, b_j)</pre>
 * It can be slightly negative when the distributions agree. Cost O((n + m)^2 d), so each set is first subsampled
 * without replacement to at most {@code maxPoints} rows (seeded). Bandwidth h: given, or the median heuristic
 * (median pairwise distance in the pooled subsample of at most {@value #MEDIAN_POINTS} points). For a multi-modal
 * set the median distance is the scale between modes, so errors inside a mode (blur, wrong covariance) barely
 * register: pass a bandwidth near the mode width to see those, and always report the exact-vs-exact floor.
 */
public final class Mmd {
    public static final int DEFAULT_MAX_POINTS = 2000;
    static final int MEDIAN_POINTS = 1000;
    private static final long STREAM_SUBSAMPLE_A = 0x4D41, STREAM_SUBSAMPLE_B = 0x4D42;

    private Mmd() {}

    /** Unbiased MMD^2 with the median-heuristic bandwidth and at most {@value #DEFAULT_MAX_POINTS} rows per set. */
    public static double mmd2(float[] a, float[] b, int d) {
        return mmd2(a, b, d, Double.NaN, DEFAULT_MAX_POINTS, 0);
    }

    /** Unbiased MMD^2 with bandwidth h (NaN: median heuristic), each set subsampled to at most maxPoints rows. */
    public static double mmd2(float[] a, float[] b, int d, double bandwidth, int maxPoints, long seed) {
        int n0 = SlicedWasserstein.rows("a", a, d), m0 = SlicedWasserstein.rows("b", b, d);
        if (maxPoints < 2) throw new IllegalArgumentException("maxPoints must be >= 2, got " + maxPoints);
        float[] x = subsample(a, n0, d, maxPoints, seed, STREAM_SUBSAMPLE_A);
        float[] y = subsample(b, m0, d, maxPoints, seed, STREAM_SUBSAMPLE_B);
        int n = x.length / d, m = y.length / d;
        if (n < 2 || m < 2) throw new IllegalArgumentException("unbiased MMD needs >= 2 rows per set, got " + n + " and " + m);
        double h = Double.isNaN(bandwidth) ? medianBandwidth(x, y, d, seed) : bandwidth;
        if (!(h > 0)) throw new IllegalArgumentException("bandwidth must be > 0, got " + h);
        double gamma = 1 / (2 * h * h);
        double kxx = offDiagonalSum(x, n, d, gamma), kyy = offDiagonalSum(y, m, d, gamma);
        double[] rowsXy = new double[n];
        IntStream.range(0, n).parallel().forEach(i -> {
            double s = 0;
            for (int j = 0; j < m; j++) s += Math.exp(-gamma * dist2(x, i, y, j, d));
            rowsXy[i] = s;
        });
        double kxy = 0;
        for (double v : rowsXy) kxy += v;
        return kxx / ((double) n * (n - 1)) + kyy / ((double) m * (m - 1)) - 2 * kxy / ((double) n * m);
    }

    /** Median pairwise Euclidean distance in the pooled first rows (at most {@value #MEDIAN_POINTS} in all). */
    public static double medianBandwidth(float[] a, float[] b, int d, long seed) {
        int half = MEDIAN_POINTS / 2;
        float[] x = subsample(a, a.length / d, d, half, seed + 1, STREAM_SUBSAMPLE_A);
        float[] y = subsample(b, b.length / d, d, half, seed + 1, STREAM_SUBSAMPLE_B);
        float[] p = new float[x.length + y.length];
        System.arraycopy(x, 0, p, 0, x.length);
        System.arraycopy(y, 0, p, x.length, y.length);
        int n = p.length / d;
        double[] dists = new double[n * (n - 1) / 2];
        int t = 0;
        for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) dists[t++] = dist2(p, i, p, j, d);
        Arrays.sort(dists);
        double med = dists.length == 0 ? 1 : Math.sqrt(dists[dists.length / 2]);
        return med > 0 ? med : 1;
    }

    private static double offDiagonalSum(float[] x, int n, int d, double gamma) {
        double[] rows = new double[n];
        IntStream.range(0, n).parallel().forEach(i -> {
            double s = 0;
            for (int j = i + 1; j < n; j++) s += Math.exp(-gamma * dist2(x, i, x, j, d));
            rows[i] = s;
        });
        double sum = 0;
        for (double v : rows) sum += v;
        return 2 * sum;
    }

    static double dist2(float[] x, int i, float[] y, int j, int d) {
        double s = 0;
        for (int k = 0; k < d; k++) {
            double t = (double) x[i * d + k] - y[j * d + k];
            s += t * t;
        }
        return s;
    }

    /** At most {@code max} distinct rows, chosen by a seeded partial Fisher-Yates shuffle; all rows if n <= max. */
    static float[] subsample(float[] x, int n, int d, int max, long seed, long stream) {
        if (n <= max) return x;
        int[] idx = IntStream.range(0, n).toArray();
        for (int i = 0; i < max; i++) {
            int j = i + (int) ((Philox.uint32(seed, stream, i) * (n - i)) >>> 32);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        float[] out = new float[max * d];
        for (int i = 0; i < max; i++) System.arraycopy(x, idx[i] * d, out, i * d, d);
        return out;
    }
}
