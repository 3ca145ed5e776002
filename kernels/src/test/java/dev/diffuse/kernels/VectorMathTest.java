package dev.diffuse.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.junit.jupiter.api.Test;

import jdk.incubator.vector.FloatVector;

/**
 * VectorMath against double precision: SiLU within a few ulp (for z << 0, silu(z) ~ z e^z, so this bounds the exp
 * polynomial's error too), its derivative, NaN and saturation, the affine map, the sums and their fixed lane order.
 */
class VectorMathTest {
    static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    /** SiLU of x (forward, or backward with dy = 1 giving silu'(x)). */
    static float[] pass(float[] x, boolean backward) {
        MemorySegment xs = MemorySegment.ofArray(x.clone()), out = MemorySegment.ofArray(new float[x.length]);
        float[] ones = new float[x.length];
        java.util.Arrays.fill(ones, 1f);
        if (backward) VectorMath.affineSiluBackward(true, out, xs, MemorySegment.ofArray(ones), 0, x.length, 0f, 1f, 1f, 0f, null, 0, 0);
        else VectorMath.affineSiluForward(true, out, xs, 0, x.length, 0f, 1f, 1f, 0f);
        return out.toArray(F);
    }

    static float[] grid(double lo, double hi, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (lo + (hi - lo) * i / (n - 1));
        return x;
    }

    @Test
    void siluIsWithinFourUlpOfDoubleOverTheExpRange() {
        float[] x = grid(-86, 86, (1 << 20) + 3);
        float[] y = pass(x, false);
        double worst = 0;
        int at = 0;
        for (int i = 0; i < x.length; i++) {
            double exact = x[i] / (1 + Math.exp(-x[i]));
            if (exact == 0) continue;
            double ulps = Math.abs(y[i] - exact) / Math.ulp((float) exact);
            if (ulps > worst) {
                worst = ulps;
                at = i;
            }
        }
        assertTrue(worst <= 4, "silu(" + x[at] + ") = " + y[at] + ", exact " + x[at] / (1 + Math.exp(-x[at])) + ": " + worst + " ulp");
    }

    @Test
    void siluDerivativeMatchesDouble() {
        float[] x = grid(-30, 30, 100_003);
        float[] g = pass(x, true);
        for (int i = 0; i < x.length; i++) {
            double s = 1 / (1 + Math.exp(-x[i])), grad = s + x[i] * s * (1 - s);
            assertEquals(grad, g[i], 1e-6 * Math.abs(grad) + 2e-7, "silu'(" + x[i] + ")");
        }
    }

    @Test
    void extremeInputsSaturateAndNaNPropagates() {
        float[] y = pass(new float[]{200f, -200f, Float.NaN, 0f, Float.POSITIVE_INFINITY}, false);
        assertEquals(200f, y[0]);
        assertTrue(y[1] <= 0 && y[1] > -1e-30, "silu(-200) ~ 0, got " + y[1]);
        assertTrue(Float.isNaN(y[2]));
        assertEquals(0f, y[3]);
        assertEquals(Float.POSITIVE_INFINITY, y[4]);
        float[] g = pass(new float[]{200f, -200f, Float.NaN}, true);
        assertEquals(1f, g[0]);
        assertEquals(0f, g[1], 1e-30);
        assertTrue(Float.isNaN(g[2]));
    }

    @Test
    void affineMapAndPartialSumsOfTheBackwardPass() {
        int n = 2500;   // three blocks, the last one partial
        float[] x = grid(-3, 5, n), dy = grid(1, -1, n);
        float mu = 0.7f, r = 1.3f, ga = 0.8f, be = -0.2f;
        MemorySegment out = MemorySegment.ofArray(new float[n]), sums = MemorySegment.ofArray(new float[4]);
        VectorMath.affineSiluBackward(true, out, MemorySegment.ofArray(x), MemorySegment.ofArray(dy), 0, n, mu, r, ga, be, sums, 1, 2);
        double p0 = 0, p1 = 0;
        float[] dz = out.toArray(F);
        for (int i = 0; i < n; i++) {
            double h = (x[i] - mu) * (double) r, z = h * ga + be, s = 1 / (1 + Math.exp(-z)), e = dy[i] * (s + z * s * (1 - s));
            assertEquals(e, dz[i], 2e-6 * Math.abs(e) + 1e-7, "dz[" + i + "]");
            p0 += e * h;
            p1 += e;
        }
        float[] got = sums.toArray(F);
        assertEquals(p0, got[1], 1e-5 * Math.abs(p0) + 1e-4, "sum dz*xhat");
        assertEquals(p1, got[3], 1e-5 * Math.abs(p1) + 1e-4, "sum dz");
    }

    @Test
    void expIsWithinTwoUlp() {
        float[] x = grid(-87, 88, (1 << 20) + 5), y = new float[x.length];
        int i = 0;
        for (; i <= x.length - VectorMath.S.length(); i += VectorMath.S.length())
            VectorMath.exp(FloatVector.fromArray(VectorMath.S, x, i)).intoArray(y, i);
        double worst = 0;
        for (int k = 0; k < i; k++) worst = Math.max(worst, Math.abs(y[k] - Math.exp(x[k])) / Math.ulp((float) Math.exp(x[k])));
        assertTrue(worst <= 2, worst + " ulp");
    }

    /** Scalar tails give a vector lane's bits: exp(float) against exp(FloatVector), and a pass with no full vector. */
    @Test
    void scalarTailsGiveTheLanesBits() {
        int L = VectorMath.S.length();
        float[] x = grid(-100, 100, 4096 * L);
        x[0] = Float.NaN;
        x[1] = Float.POSITIVE_INFINITY;
        x[2] = -0f;
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i += L) VectorMath.exp(FloatVector.fromArray(VectorMath.S, x, i)).intoArray(y, i);
        for (int i = 0; i < x.length; i++)
            assertEquals(Float.floatToRawIntBits(y[i]), Float.floatToRawIntBits(VectorMath.exp(x[i])), "exp(" + x[i] + ")");
        float[] v = grid(-9, 9, L), lanes = pass(v, false), tail = pass(java.util.Arrays.copyOf(v, L - 1), false);
        float[] glanes = pass(v, true), gtail = pass(java.util.Arrays.copyOf(v, L - 1), true);
        for (int i = 0; i < L - 1; i++) {
            assertEquals(Float.floatToRawIntBits(lanes[i]), Float.floatToRawIntBits(tail[i]), "silu(" + v[i] + ")");
            assertEquals(Float.floatToRawIntBits(glanes[i]), Float.floatToRawIntBits(gtail[i]), "silu'(" + v[i] + ")");
        }
    }

    @Test
    void plainGroupNormPassesAreTheAffineMap() {
        int n = 1100;
        float[] x = grid(-3, 5, n), dy = grid(2, -1, n);
        MemorySegment out = MemorySegment.ofArray(new float[n]), sums = MemorySegment.ofArray(new float[2]);
        VectorMath.affineSiluForward(false, out, MemorySegment.ofArray(x), 0, n, 0.5f, 2f, 0.25f, 1f);
        float[] y = out.toArray(F);
        for (int k = 0; k < n; k++) assertEquals(Math.fma((x[k] - 0.5f) * 2f, 0.25f, 1f), y[k], "affine " + k);
        VectorMath.affineSiluBackward(false, out, MemorySegment.ofArray(x), MemorySegment.ofArray(dy), 0, n, 0.5f, 2f, 0.7f, -0.3f, sums, 0, 1);
        assertEquals(java.util.Arrays.toString(dy), java.util.Arrays.toString(out.toArray(F)), "dz = dy");
        double p0 = 0, p1 = 0;
        for (int k = 0; k < n; k++) {
            p0 += dy[k] * (x[k] - 0.5) * 2;
            p1 += dy[k];
        }
        assertEquals(p0, sums.getAtIndex(F, 0), 1e-3);
        assertEquals(p1, sums.getAtIndex(F, 1), 1e-3);
    }

    @Test
    void sumsAreCentredAndAccurate() {
        int n = 5000;
        float[] x = grid(1000, 1001, n);
        MemorySegment s = MemorySegment.ofArray(x);
        double exact = 0, sq = 0;
        for (float v : x) {
            exact += v - 1000.5;
            sq += (v - 1000.5) * (v - 1000.5);
        }
        assertEquals(exact, VectorMath.sum(s, 0, n, 1000.5f, false), 1e-3);
        assertEquals(sq, VectorMath.sum(s, 0, n, 1000.5f, true), 1e-6 * sq);
        assertEquals(x[7] + x[8], VectorMath.sum(s, 4 * 7, 2, 0f, false), 1e-3, "offset and a short tail");
    }

    @Test
    void laneSumAddsInLaneOrderInDouble() {
        float[] v = {1e8f, 1f, -1e8f, 0.5f};
        assertEquals(((1e8 + 1) - 1e8) + 0.5, VectorMath.laneSum(v));
        assertEquals(VectorMath.S.length(), VectorMath.lanes().length);
    }
}
