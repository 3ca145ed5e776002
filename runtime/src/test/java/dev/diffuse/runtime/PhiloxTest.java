package dev.diffuse.runtime;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

class PhiloxTest {

    /** Known-answer vectors of Random123's kat_vectors for philox4x32 with 10 rounds. */
    @Test
    void matchesRandom123KnownAnswers() {
        int[] out = new int[4];
        Philox.block(0, 0, 0, 0, 0, 0, out);
        assertArrayEquals(new int[]{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}, out);
        Philox.block(-1, -1, -1, -1, -1, -1, out);
        assertArrayEquals(new int[]{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}, out);
        Philox.block(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, out);
        assertArrayEquals(new int[]{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}, out);
    }

    @Test
    void openClStreamIsBitIdenticalAndNormalsAgreeForAMillionDraws() {
        ClDevice cl = TestDevices.openCl();
        int n = 1_000_003; // odd: partial Philox blocks at the end
        long seed = 0x1234_5678_9abcL, stream = 7, first = 5; // first not a multiple of 4: partial block at the start
        try (Tensor bits = Tensor.allocate(cl, n); Tensor normals = Tensor.allocate(cl, n)) {
            Rng.fillBits(bits, seed, stream, first);
            Rng.fillNormal(normals, seed, stream, first, 0f, 1f);
            float[] b = bits.toArray(), z = normals.toArray();
            float[] zj = new float[n];
            Philox.normals(seed, stream, first, zj, 0, n);
            int[] w = new int[4];
            for (int k = 0; k < n; k++) {
                long i = first + k;
                if (k == 0 || (i & 3) == 0) Philox.block(seed, stream, i >>> 2, w);
                if (Float.floatToRawIntBits(b[k]) != w[(int) (i & 3)])
                    fail("uint32 draw " + i + " differs: java " + Integer.toHexString(w[(int) (i & 3)]) + ", cl "
                            + Integer.toHexString(Float.floatToRawIntBits(b[k])));
            }
            Close.assertClose(zj, z, 2e-6, 2e-6, "normals java vs " + cl.id());
        }
    }

    @Test
    void javaDeviceFillMatchesScalarDefinition() {
        try (Tensor t = Tensor.allocate(TestDevices.java(), 1001)) {
            Rng.fillNormal(t, 42, 3, 2, 1f, 2f);
            float[] z = t.toArray();
            for (int k = 0; k < z.length; k += 37) assertEquals(1f + 2f * Philox.normal(42, 3, 2 + k), z[k], 0f);
        }
    }

    @Test
    void normalsHaveUnitMomentsAndPassKolmogorovSmirnov() {
        int n = 400_000;
        float[] z = new float[n];
        Philox.normals(99, 0, 0, z, 0, n);
        double mean = 0, m2 = 0, m4 = 0;
        for (float v : z) mean += v;
        mean /= n;
        for (float v : z) {
            double d = v - mean;
            m2 += d * d;
            m4 += d * d * d * d;
        }
        m2 /= n;
        m4 /= n;
        assertEquals(0, mean, 5 / Math.sqrt(n), "mean");             // 5 standard errors
        assertEquals(1, m2, 5 * Math.sqrt(2.0 / n), "variance");
        assertEquals(3, m4, 5 * Math.sqrt(96.0 / n), "fourth moment");
        double[] s = new double[n];
        for (int i = 0; i < n; i++) s[i] = z[i];
        Arrays.sort(s);
        double d = 0;
        for (int i = 0; i < n; i++) {
            double f = phi(s[i]);
            d = Math.max(d, Math.max(Math.abs(f - (double) i / n), Math.abs(f - (double) (i + 1) / n)));
        }
        // KS critical value at alpha = 0.001: 1.95 / sqrt(n)
        assertTrue(d < 1.95 / Math.sqrt(n), "KS statistic " + d + " >= " + 1.95 / Math.sqrt(n));
    }

    @Test
    void uniformsAreInOpenIntervalAndUniform() {
        int n = 200_000;
        double sum = 0;
        int[] hist = new int[20];
        for (int i = 0; i < n; i++) {
            float u = Philox.uniform(5, 1, i);
            assertTrue(u > 0 && u < 1);
            sum += u;
            hist[(int) (u * 20)]++;
        }
        assertEquals(0.5, sum / n, 5 * Math.sqrt(1.0 / 12 / n));
        double chi2 = 0, e = n / 20.0;
        for (int h : hist) chi2 += (h - e) * (h - e) / e;
        assertTrue(chi2 < 43.8, "chi-square with 19 dof = " + chi2 + " (p < 0.001 above 43.8)");
    }

    @Test
    void streamsAndSeedsAreIndependentAndDeterministic() {
        assertEquals(Philox.uint32(1, 0, 10), Philox.uint32(1, 0, 10));
        assertNotEquals(Philox.uint32(1, 0, 10), Philox.uint32(1, 1, 10));
        assertNotEquals(Philox.uint32(1, 0, 10), Philox.uint32(2, 0, 10));
    }

    /** Standard normal CDF via erf (Abramowitz-Stegun 7.1.26 is too coarse; use a series/continued fraction). */
    static double phi(double x) {
        return 0.5 * erfc(-x / Math.sqrt(2));
    }

    static double erfc(double x) {
        // Numerical Recipes erfc via Chebyshev fit, |rel err| < 1.2e-7.
        double z = Math.abs(x), t = 1 / (1 + 0.5 * z);
        double r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
                + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }
}
