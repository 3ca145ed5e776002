package dev.diffuse.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Java device's vector loops for memory-bound ops: sums in a fixed order ({@link #sum}), exp, and the passes
 * of SiLU and GroupNorm(+SiLU) forward and backward ({@link #affineSiluForward}, {@link #affineSiluBackward}).
 *
 * <h2>Why these shapes</h2>
 * Same bits in every execution mode: only IEEE add, mul, fma, div, min/max and bit operations, so the interpreter,
 * C1 and C2 agree (the JDK's {@code lanewise(EXP)} calls SVML once C2 has compiled a method but {@code Math.exp} per
 * lane before, and {@code reduceLanes(ADD)} may change its order), and the Java device stays bit-identical from run
 * to run whatever the JIT has compiled yet. Vectors cross only calls C2 always inlines: a vector passed to a method
 * that is not inlined is boxed on the heap, 10-100x slower, and C2 refuses to inline a callee whose own C2 code is
 * big ("already compiled into a big method"): so the loops live in the public methods and call only {@link #exp},
 * which has no loop and compiles small.
 *
 * <h2>exp (Cody-Waite reduction + Cephes' expf polynomial)</h2>
 * e^x = 2^n e^r with n = round(x log2 e) and r = x - n ln 2, |r| <= ln(2)/2. n ln 2 is subtracted in two parts
 * (C1 = 0.693359375 has 9 significant bits, so n*C1 is exact for |n| <= 2^14; C2 = ln 2 - C1), then
 * e^r = 1 + r + r^2 (1/2 + r/6 + ...) with Cephes' minimax coefficients; 2^n is built in the exponent bits.
 * n = round(v) uses the 1.5*2^23 trick: v + 1.5*2^23 holds round(v) in its low mantissa bits (ties to even). The
 * argument is clamped to [-87, 88] so that 2^n stays a normal float (e^88 = 1.65e38, e^-87 = 1.6e-38): this only
 * matters where sigmoid is 0 or 1 to float precision. NaN stays NaN. Within 2 ulp of the correctly rounded e^x
 * (VectorMathTest), so SiLU is within a few ulp of the double-precision definition.
 */
public final class VectorMath {
    public static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Elements summed in float lanes before the partial sum is added in double (a multiple of every lane count). */
    public static final int BLOCK = 1024;

    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final float LOG2E = 1.44269504088896341f, C1 = 0.693359375f, C2 = -2.12194440e-4f;
    private static final float MAGIC = 12582912f;   // 1.5 * 2^23
    private static final int MAGIC_BITS = Float.floatToRawIntBits(MAGIC);
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f, P3 = 4.1665795894e-2f,
            P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    private VectorMath() {}

    /** e^x per lane (see the class comment): a small method without loops, which C2 inlines into the loops below. */
    public static FloatVector exp(FloatVector x) {
        FloatVector t = x.max(-87f).min(88f);
        FloatVector shifted = t.fma(LOG2E, MAGIC);                   // round(t log2 e) + 1.5*2^23
        FloatVector n = shifted.sub(MAGIC);
        FloatVector r = t.sub(n.mul(C1));                             // exact: n*C1 is exact and close to t
        r = n.fma(FloatVector.broadcast(S, -C2), r);
        FloatVector p = r.fma(P0, P1).fma(r, FloatVector.broadcast(S, P2)).fma(r, FloatVector.broadcast(S, P3))
                .fma(r, FloatVector.broadcast(S, P4)).fma(r, FloatVector.broadcast(S, P5));
        IntVector ni = shifted.reinterpretAsInts().sub(MAGIC_BITS);    // n as an int, |n| <= 127
        return p.fma(r.mul(r), r).add(1f).mul(ni.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
    }

    /** The same e^x on one float, bit-identical to a lane of {@link #exp(FloatVector)} (for the tails of the loops). */
    public static float exp(float x) {
        float t = Math.min(Math.max(x, -87f), 88f);
        float shifted = Math.fma(t, LOG2E, MAGIC), n = shifted - MAGIC;
        float r = t - n * C1;
        r = Math.fma(n, -C2, r);
        float p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(r, P0, P1), r, P2), r, P3), r, P4), r, P5);
        int ni = Float.floatToRawIntBits(shifted) - MAGIC_BITS;
        return (Math.fma(p, r * r, r) + 1f) * Float.intBitsToFloat((ni + 127) << 23);
    }

    /*
     * The passes of SiLU and GroupNorm(+SiLU) over the n floats at element `at` of x, with GroupNorm's affine map
     * h = (x - mu) r, z = fma(h, gamma, beta) (plain SiLU: mu = 0, r = gamma = 1, beta = 0, so z = x exactly), and
     * the activation act = SiLU when `silu`, else the identity:
     *   affineSiluForward:  out = act(z),  silu(z) = z / (1 + e^-z)
     *   affineSiluBackward: out = dz = dy act'(z),  silu'(z) = s + z s (1 - s), s = 1 / (1 + e^-z)
     * The backward also sums dz*h and dz into sums[sumAt] and sums[sumAt + sumStride] when sums != null
     * (GroupNorm's per-channel partials): float lanes over blocks of BLOCK elements, lane order, then the tail
     * elements in order, blocks in double. Full vectors, then the last n % lanes elements in scalar code with the
     * same operations (so the same bits): masked vector operations are not always intrinsified (in the U-Net they fell
     * back to allocating Java code, 0.8 MB per GroupNorm call). `silu` is loop-invariant: C2 unswitches the loop.
     * out may alias dy.
     */

    public static void affineSiluForward(boolean silu, MemorySegment out, MemorySegment x, long at, long n, float mu, float r,
                                         float gamma, float beta) {
        FloatVector ga = FloatVector.broadcast(S, gamma), be = FloatVector.broadcast(S, beta);
        long i = at, end = at + n;
        for (; i <= end - S.length(); i += S.length()) {
            FloatVector z = FloatVector.fromMemorySegment(S, x, 4 * i, NATIVE).sub(mu).mul(r).fma(ga, be);
            (silu ? z.div(exp(z.neg()).add(1f)) : z).intoMemorySegment(out, 4 * i, NATIVE);
        }
        for (; i < end; i++) {
            float z = Math.fma((x.getAtIndex(F, i) - mu) * r, gamma, beta);
            out.setAtIndex(F, i, silu ? z / (exp(-z) + 1f) : z);
        }
    }

    public static void affineSiluBackward(boolean silu, MemorySegment out, MemorySegment x, MemorySegment dy, long at, long n,
                                          float mu, float r, float gamma, float beta, MemorySegment sums, long sumAt, long sumStride) {
        FloatVector one = FloatVector.broadcast(S, 1f), ga = FloatVector.broadcast(S, gamma), be = FloatVector.broadcast(S, beta);
        double p0 = 0, p1 = 0;
        float[] lanes = lanes();
        for (long from = at, end = at + n; from < end; from += BLOCK) {
            long to = Math.min(end, from + BLOCK), i = from;
            FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
            for (; i <= to - S.length(); i += S.length()) {
                FloatVector h = FloatVector.fromMemorySegment(S, x, 4 * i, NATIVE).sub(mu).mul(r);
                FloatVector dz = FloatVector.fromMemorySegment(S, dy, 4 * i, NATIVE);
                if (silu) {
                    FloatVector z = h.fma(ga, be), s = one.div(exp(z.neg()).add(1f));
                    dz = dz.mul(s.add(z.mul(s).mul(one.sub(s))));
                }
                dz.intoMemorySegment(out, 4 * i, NATIVE);
                a0 = dz.fma(h, a0);
                a1 = a1.add(dz);
            }
            a0.intoArray(lanes, 0);
            p0 += laneSum(lanes);
            a1.intoArray(lanes, 0);
            p1 += laneSum(lanes);
            for (; i < to; i++) {
                float h = (x.getAtIndex(F, i) - mu) * r, dz = dy.getAtIndex(F, i);
                if (silu) {
                    float z = Math.fma(h, gamma, beta), s = 1f / (exp(-z) + 1f);
                    dz = dz * (s + z * s * (1f - s));
                }
                out.setAtIndex(F, i, dz);
                p0 += dz * h;
                p1 += dz;
            }
        }
        putSums(sums, sumAt, sumStride, p0, p1);
    }

    private static void putSums(MemorySegment sums, long sumAt, long sumStride, double p0, double p1) {
        if (sums == null) return;
        sums.setAtIndex(F, sumAt, (float) p0);
        sums.setAtIndex(F, sumAt + sumStride, (float) p1);
    }

    /**
     * sum_i (x_i - shift) (squares = false) or sum_i (x_i - shift)^2 (squares = true) over the n floats at byte
     * offset {@code byteOffset} of {@code s}: float lanes over the full vectors of blocks of {@value #BLOCK} elements,
     * each block's lanes added in lane order into a double, then its tail elements in order. Accurate (a block's float
     * sum has ~sqrt(BLOCK/lanes) ulp of error, blocks add in double), and its order is fixed by n alone.
     */
    public static double sum(MemorySegment s, long byteOffset, long n, float shift, boolean squares) {
        double total = 0;
        float[] lanes = lanes();
        for (long from = 0; from < n; from += BLOCK) {
            long to = Math.min(n, from + BLOCK), i = from;
            FloatVector acc = FloatVector.zero(S);
            for (; i <= to - S.length(); i += S.length()) {
                FloatVector d = FloatVector.fromMemorySegment(S, s, byteOffset + 4 * i, NATIVE).sub(shift);
                acc = squares ? d.fma(d, acc) : acc.add(d);
            }
            acc.intoArray(lanes, 0);
            total += laneSum(lanes);
            for (; i < to; i++) {
                float d = s.get(F, byteOffset + 4 * i) - shift;
                total += squares ? d * d : d;
            }
        }
        return total;
    }

    /**
     * Per-thread room for one vector's lanes: a loop stores its accumulator there ({@code intoArray}, in the same
     * method) and {@link #laneSum} adds the floats. A vector never crosses a call: passing one to a helper that C2 does
     * not inline (the reduction runs once per block, a cold call site) boxes it, which allocated 0.8 MB per
     * GroupNorm backward.
     */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[S.length()]);

    /** The thread's lane buffer (one per thread, so tasks running at the same time do not share it). */
    public static float[] lanes() { return LANES.get(); }

    /** The sum of the stored lanes in lane order, in double: fixed by the species alone (unlike reduceLanes). */
    public static double laneSum(float[] lanes) {
        double s = 0;
        for (float f : lanes) s += f;
        return s;
    }
}
