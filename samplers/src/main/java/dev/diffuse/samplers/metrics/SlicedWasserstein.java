package dev.diffuse.samplers.metrics;

import java.util.Arrays;
import java.util.stream.IntStream;

import dev.diffuse.runtime.Philox;
import dev.diffuse.samplers.gmm.GaussianMixture;

/**
 * Sliced Wasserstein-2 distance between two sample sets in R^d (row-major float arrays, sizes may differ):
 * <pre>  SW2(A, B) = sqrt( mean_{l=1..L} W2^2(theta_l . A, theta_l . B) )</pre>
 * over L random unit directions theta_l. In 1-D, W2^2 = int_0^1 (Q_A(t) - Q_B(t))^2 dt with Q the quantile
 * functions; for empirical measures Q_A is a step function (sorted value i on [i/n, (i+1)/n)), so the integral is
 * evaluated exactly on the common refinement of both step grids (all levels i/n and j/m). With n = m this is the
 * sorted pairing (1/n) sum (a_(i) - b_(i))^2; a 1-D shift by v gives exactly |v|.
 *
 * <p>Directions: theta_l is normal draws l*d .. l*d+d-1 of Philox stream {@value #STREAM_DIRECTIONS} under the seed,
 * normalised. A finite sample has a noise floor: report {@link #exactFloor} beside any value (MEASURING-SAMPLERS.md).
 */
public final class SlicedWasserstein {
    public static final int DEFAULT_DIRECTIONS = 256;
    /** Philox stream of the projection directions (kept apart from the mixture's sampling streams 0 and 1). */
    public static final long STREAM_DIRECTIONS = 0x5357;

    private SlicedWasserstein() {}

    /** SW2 between rows of {@code a} and rows of {@code b} (both of dimension d) over L directions from seed. */
    public static double sw2(float[] a, float[] b, int d, int directions, long seed) {
        int n = rows("a", a, d), m = rows("b", b, d);
        if (directions < 1) throw new IllegalArgumentException("need at least 1 direction, got " + directions);
        double[][] theta = directions(d, directions, seed);
        double[] w2 = new double[directions];
        IntStream.range(0, directions).parallel().forEach(l -> w2[l] = w2squared(project(a, n, d, theta[l]), project(b, m, d, theta[l])));
        double sum = 0;
        for (double v : w2) sum += v; // fixed order: deterministic
        return Math.sqrt(sum / directions);
    }

    public static double sw2(float[] a, float[] b, int d) { return sw2(a, b, d, DEFAULT_DIRECTIONS, 0); }

    /**
     * The noise floor: SW2 between two independent exact sample sets of sizes na and nb from {@code mixture} (rows
     * 0..na-1 and na..na+nb-1 of its seeded sample sequence), with the same directions as {@link #sw2}.
     */
    public static double exactFloor(GaussianMixture mixture, int na, int nb, int directions, long seed) {
        float[] a = mixture.sample(na, seed, 0), b = mixture.sample(nb, seed, na);
        return sw2(a, b, mixture.dim(), directions, seed);
    }

    /** L unit vectors in R^d: normalised Philox normals. */
    public static double[][] directions(int d, int count, long seed) {
        double[][] t = new double[count][d];
        float[] z = new float[d];
        for (int l = 0; l < count; l++) {
            double norm2;
            long first = (long) l * d;
            do { // a zero vector has probability ~0 (only if all d normals are exactly 0); redraw further on
                Philox.normals(seed, STREAM_DIRECTIONS, first, z, 0, d);
                norm2 = 0;
                for (float v : z) norm2 += (double) v * v;
                first += (long) count * d;
            } while (norm2 == 0);
            double inv = 1 / Math.sqrt(norm2);
            for (int j = 0; j < d; j++) t[l][j] = z[j] * inv;
        }
        return t;
    }

    /**
     * Sorted projections of the n rows on theta. Each value depends on its row only, so the projections of a set split
     * into parts, concatenated and sorted, are exactly these: a distributed SW2 computes them per part (Spark job).
     */
    public static double[] project(float[] x, int n, int d, double[] theta) {
        double[] p = new double[n];
        for (int r = 0; r < n; r++) {
            double s = 0;
            for (int j = 0; j < d; j++) s += theta[j] * x[r * d + j];
            p[r] = s;
        }
        Arrays.sort(p);
        return p;
    }

    /** Exact W2^2 between the empirical measures of sorted a (n values) and sorted b (m values). */
    public static double w2squared(double[] a, double[] b) {
        long n = a.length, m = b.length;
        if (n == 0 || m == 0) throw new IllegalArgumentException("W2 needs non-empty sets, got sizes " + n + " and " + m);
        // Level t = i/n = j/m compared exactly in integers: (i+1)/n vs (j+1)/m  <=>  (i+1) m vs (j+1) n.
        int i = 0, j = 0;
        double t = 0, acc = 0;
        while (i < n && j < m) {
            long ln = (i + 1) * m, lm = (j + 1) * n;
            double next = ln <= lm ? (double) (i + 1) / n : (double) (j + 1) / m;
            double diff = a[i] - b[j];
            acc += (next - t) * diff * diff;
            t = next;
            if (ln <= lm) i++;
            if (lm <= ln) j++;
        }
        return acc;
    }

    static int rows(String name, float[] x, int d) {
        if (d < 1) throw new IllegalArgumentException("dimension must be >= 1, got " + d);
        if (x.length == 0 || x.length % d != 0)
            throw new IllegalArgumentException("sample set " + name + " has " + x.length + " values, which is not a positive multiple of d = " + d);
        return x.length / d;
    }
}
