package dev.diffuse.runtime;

import org.junit.jupiter.api.Assertions;

/** The one closeness assertion: |e - a| <= atol + rtol * |e| everywhere, else fail naming the worst element. */
public final class Close {
    private Close() {}

    public static void assertClose(float[] expected, float[] actual, double atol, double rtol) {
        assertClose(expected, actual, atol, rtol, "");
    }

    public static void assertClose(float[] expected, float[] actual, double atol, double rtol, String what) {
        double[] e = new double[expected.length], a = new double[actual.length];
        for (int i = 0; i < e.length; i++) e[i] = expected[i];
        for (int i = 0; i < a.length; i++) a[i] = actual[i];
        assertClose(e, a, atol, rtol, what);
    }

    public static void assertClose(double[] expected, double[] actual, double atol, double rtol, String what) {
        Assertions.assertEquals(expected.length, actual.length, what + ": length");
        int worst = -1, bad = 0;
        double worstExcess = 0;
        for (int i = 0; i < expected.length; i++) {
            double tol = atol + rtol * Math.abs(expected[i]);
            double diff = Math.abs(expected[i] - actual[i]);
            boolean nan = Double.isNaN(expected[i]) != Double.isNaN(actual[i]);
            if (nan || diff > tol) {
                bad++;
                double excess = nan ? Double.POSITIVE_INFINITY : diff / tol;
                if (worst < 0 || excess > worstExcess) {
                    worst = i;
                    worstExcess = excess;
                }
            }
        }
        if (bad > 0)
            Assertions.fail(String.format("%s%d of %d elements differ beyond atol=%.2g rtol=%.2g; worst at [%d]: expected %.9g, got %.9g (|diff| %.3g)",
                    what.isEmpty() ? "" : what + ": ", bad, expected.length, atol, rtol, worst, expected[worst], actual[worst],
                    Math.abs(expected[worst] - actual[worst])));
    }

    /** Seeded standard normals for test inputs. */
    public static float[] randn(long seed, int n) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            double u1 = r.nextDouble(), u2 = r.nextDouble();
            x[i] = (float) (Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2));
        }
        return x;
    }

    /** Seeded uniforms in [lo, hi). */
    public static float[] uniform(long seed, int n, double lo, double hi) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return x;
    }
}
