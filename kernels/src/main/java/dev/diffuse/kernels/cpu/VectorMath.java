package dev.diffuse.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp on float vectors from exact operations only (fma, mul, add, shifts, reinterpretation), so that the interpreter,
 * C1 and C2 give the same bits (the Vector API's {@code EXP} lane op is an SVML call in C2 and a per-lane
 * {@code Math.exp} elsewhere, whose last bits differ: results would depend on when the JIT compiled the caller).
 *
 * <p>{@code exp(x) = 2^n e^r} with {@code n = round(x / ln 2)} and {@code r = x - n ln 2} in two parts (Cody-Waite), so
 * |r| <= ln 2 / 2, and {@code e^r} by the degree-6 polynomial of Cephes' expf (relative error about 1e-7, within 2 ulp
 * of the correctly rounded result). Inputs are clamped to [-87.3, 88]: exp(-87.3) is the smallest normal float
 * scale, so large negative arguments give a tiny positive number instead of 0 (harmless in a softmax, where it is
 * added to terms of order 1).
 */
public final class VectorMath {
    private static final VectorSpecies<Float> S = MicroKernels.S;
    private static final float LOG2E = 1.44269504088896341f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    /** 1.5 * 2^23: adding it rounds a float of magnitude < 2^22 to an integer held in the low mantissa bits. */
    private static final float ROUNDER = 12582912f;
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f,
            P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    private VectorMath() {}

    /** e^x lane-wise (see the class comment for range and accuracy). */
    public static FloatVector exp(FloatVector x) {
        x = x.max(-87.3f).min(88f);
        FloatVector t = x.fma(LOG2E, ROUNDER);                               // ROUNDER + round(x log2 e)
        FloatVector n = t.sub(ROUNDER);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), x);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = r.fma(P0, P1);
        p = p.fma(r, FloatVector.broadcast(S, P2));
        p = p.fma(r, FloatVector.broadcast(S, P3));
        p = p.fma(r, FloatVector.broadcast(S, P4));
        p = p.fma(r, FloatVector.broadcast(S, P5));
        p = p.fma(r.mul(r), r).add(1f);                                       // 1 + r + r^2 P(r)
        // 2^n: the integer n sits in t's low mantissa bits; (n + 127) << 23 is the float 2^n
        IntVector bits = t.reinterpretAsInts().sub(Float.floatToRawIntBits(ROUNDER) - 127)
                .lanewise(VectorOperators.LSHL, 23);
        return p.mul(bits.reinterpretAsFloats());
    }

    /** The same function on one float (for tails), bit-identical to a lane of {@link #exp(FloatVector)}. */
    public static float exp(float x) {
        x = Math.min(Math.max(x, -87.3f), 88f);
        float t = Math.fma(x, LOG2E, ROUNDER), n = t - ROUNDER;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(r, P0, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        p = Math.fma(p, r * r, r) + 1f;
        int bits = (Float.floatToRawIntBits(t) - (Float.floatToRawIntBits(ROUNDER) - 127)) << 23;
        return p * Float.intBitsToFloat(bits);
    }
}
