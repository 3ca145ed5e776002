package dev.diffuse.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * What a convolution does to its sums on the way out, fused into the pass that writes y (NCHW):
 * <pre>
 *   y[n][co][p] = (((acc + bias[co]) + channelAdd[n][co]) + residual[n][co][p]) * scale
 * </pre>
 * each term optional (null segments are skipped, scale 1 is skipped), added in this order in full and in masked
 * (tail) vectors alike: the same roundings as the unfused sequence conv, broadcast add, add, scale. The residual may be y itself (an in-place {@code y += conv(x)}): each element is read before it
 * is written. Offsets are in elements.
 *
 * @param bias       (Cout) or null
 * @param channelAdd (B, Cout) added to every pixel of (n, co), e.g. a projected time embedding, or null
 * @param residual   like y, or null
 * @param scale      multiplies the sum, e.g. 1 / output_scale_factor
 */
public record ConvEpilogue(MemorySegment bias, long biasBase, MemorySegment channelAdd, long channelAddBase,
                           MemorySegment residual, long residualBase, float scale) {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final VectorSpecies<Float> S = MicroKernels.S;
    private static final int V = MicroKernels.V, NR = MicroKernels.NR;
    private static final ByteOrder LE = ByteOrder.nativeOrder();

    /** Only a bias. */
    public static ConvEpilogue bias(MemorySegment bias) { return new ConvEpilogue(bias, 0, null, 0, null, 0, 1f); }

    /** Nothing: y = acc. */
    static final ConvEpilogue NONE = new ConvEpilogue(null, 0, null, 0, null, 0, 1f);

    /**
     * Writes rows co0..co0+rows-1 of a tile (row stride NR, starting at {@code t[to]}) for {@code len} consecutive
     * output pixels of image n starting at pixel p0: {@code y[yBase + ((n*cout + co)*P + p0 + q)]}.
     */
    void store(float[] t, int to, int rows, int len, int co0, int n, int cout, int P, int p0, MemorySegment y, long yBase) {
        for (int r = 0; r < rows; r++) {
            int co = co0 + r, ti = to + r * NR;
            long yo = yBase + ((long) n * cout + co) * P + p0;
            long ro = residual == null ? 0 : residualBase + ((long) n * cout + co) * P + p0;
            float bv = bias == null ? 0f : bias.getAtIndex(F, biasBase + co);
            float cv = channelAdd == null ? 0f : channelAdd.getAtIndex(F, channelAddBase + (long) n * cout + co);
            int q = 0;
            for (; q + V <= len; q += V) {
                FloatVector v = FloatVector.fromArray(S, t, ti + q);
                if (bias != null) v = v.add(bv);
                if (channelAdd != null) v = v.add(cv);
                if (residual != null) v = v.add(FloatVector.fromMemorySegment(S, residual, (ro + q) * 4, LE));
                if (scale != 1f) v = v.mul(scale);
                v.intoMemorySegment(y, (yo + q) * 4, LE);
            }
            // The tail repeats the loop body with masks on purpose: a shared helper taking the residual as a nullable
            // FloatVector kept C2 from eliminating the vector boxes (measured: U-Net forward b64 270 -> 420 ms).
            if (q < len) {   // the tail (runs end at image borders, rarely on a vector boundary): the same ops, masked
                VectorMask<Float> m = S.indexInRange(q, len);
                FloatVector v = FloatVector.fromArray(S, t, ti + q, m);
                if (bias != null) v = v.add(bv);
                if (channelAdd != null) v = v.add(cv);
                if (residual != null) v = v.add(FloatVector.fromMemorySegment(S, residual, (ro + q) * 4, LE, m));
                if (scale != 1f) v = v.mul(scale);
                v.intoMemorySegment(y, (yo + q) * 4, LE, m);
            }
        }
    }
}
