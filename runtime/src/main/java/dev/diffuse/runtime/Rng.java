package dev.diffuse.runtime;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Fills tensors from the counter-based stream ({@link Philox}) on any device. Element {@code k} of the tensor gets
 * draw number {@code first + k} of stream {@code stream} under {@code seed}, so the same call gives the same
 * numbers on every device (bits for {@link #fillBits} and {@link #fillUniform}, float rounding for normals).
 */
public final class Rng {
    private static final String CL = "dev/diffuse/runtime/rng.cl", ROWS_CL = "dev/diffuse/runtime/rng_rows.cl";
    private static final int WG = 256;

    private Rng() {}

    /** out = mean + std * N(0, 1). */
    public static void fillNormal(Tensor out, long seed, long stream, long first, float mean, float std) {
        switch (out.device()) {
            case JavaDevice j -> fillJava(j, out, mean, std, (from, buf, len) -> Philox.normals(seed, stream, first + from, buf, 0, len));
            case ClDevice c -> c.kernel(CL, "rng_fill_normal").launch1d(blocks(out.numel(), first), WG,
                    out, out.numel(), first, seed, stream, mean, std);
        }
    }

    /**
     * out = mean + std * N(0, 1) with the draws {@code noise} assigns to the elements of out (a key per row for
     * {@link RowNoise}); {@code Noise.seed(s)} gives what {@code fillNormal(out, s, stream, 0, mean, std)} gives.
     */
    public static void fillNormal(Tensor out, Noise noise, long stream, float mean, float std) {
        noise.check("rng_fill_normal", out.numel());
        switch (noise) {
            case Noise.Shared s -> fillNormal(out, s.seed(), stream, 0, mean, std);
            case RowNoise r -> {
                long n = out.numel();
                switch (out.device()) {
                    case JavaDevice j -> fillJava(j, out, mean, std, (from, buf, len) -> r.normals(stream, n, from, buf, len));
                    case ClDevice c -> c.kernel(ROWS_CL, "rng_fill_normal_rows").launch1d(n, WG,
                            out, n, r.rowLength(n), r.table(c), stream, mean, std);
                }
            }
        }
    }

    private interface Normals { void fill(int from, float[] buf, int len); }

    /** Java device: out[k] = mean + std * z[k] in fixed chunks, z from {@code normals}. */
    private static void fillJava(JavaDevice j, Tensor out, float mean, float std, Normals normals) {
        MemorySegment s = out.segment();
        int n = Math.toIntExact(out.numel());
        int chunk = 1 << 16;
        j.parallelFor((n + chunk - 1) / chunk, c -> {
            int from = c * chunk, len = Math.min(chunk, n - from);
            float[] buf = new float[len];
            normals.fill(from, buf, len);
            for (int k = 0; k < len; k++) s.setAtIndex(ValueLayout.JAVA_FLOAT, from + k, mean + std * buf[k]);
        });
    }

    public static void fillNormal(Tensor out, long seed, long stream) { fillNormal(out, seed, stream, 0, 0f, 1f); }

    /** out = U(0, 1) with 24-bit resolution. */
    public static void fillUniform(Tensor out, long seed, long stream, long first) {
        switch (out.device()) {
            case JavaDevice j -> {
                MemorySegment s = out.segment();
                for (long k = 0; k < out.numel(); k++) s.setAtIndex(ValueLayout.JAVA_FLOAT, k, Philox.uniform(seed, stream, first + k));
            }
            case ClDevice c -> c.kernel(CL, "rng_fill_uniform").launch1d(blocks(out.numel(), first), WG,
                    out, out.numel(), first, seed, stream);
        }
    }

    /** The raw 32-bit words, stored bit for bit in the float tensor (read them with Float.floatToRawIntBits). */
    public static void fillBits(Tensor out, long seed, long stream, long first) {
        switch (out.device()) {
            case JavaDevice j -> {
                MemorySegment s = out.segment();
                for (long k = 0; k < out.numel(); k++) s.setAtIndex(ValueLayout.JAVA_INT, k, (int) Philox.uint32(seed, stream, first + k));
            }
            case ClDevice c -> c.kernel(CL, "rng_fill_bits").launch1d(blocks(out.numel(), first), WG,
                    out, out.numel(), first, seed, stream);
        }
    }

    /** Number of Philox blocks touched by draws first .. first+n-1. */
    private static long blocks(long n, long first) {
        return n == 0 ? 0 : ((first + n - 1) >>> 2) - (first >>> 2) + 1;
    }
}
