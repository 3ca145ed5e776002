package dev.diffuse.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import dev.diffuse.runtime.JavaDevice;

/**
 * {@code C = alpha op(A) op(B) + beta C (+ bias per column)} on the Java device, BLIS-style:
 * <ol>
 *   <li>op(B) is packed once per call into NR-column panels (k-major) and op(A) into MR-row panels (k-major), in one
 *       parallel loop over panels ({@link Pack});</li>
 *   <li>each chunk of the parallel loop owns one NR-wide column tile and a block of row panels of C: for each K
 *       block of {@link #KC} (the B slab stays in L1) it runs the micro-kernel on every panel, carrying each tile in
 *       a heap buffer between K blocks;</li>
 *   <li>the epilogue scales, adds beta C and the bias, and writes the tile into C where it lives.</li>
 * </ol>
 * Every C element is one FMA chain over k in increasing order, whatever the chunking, so the result depends neither
 * on scheduling nor on the thread count (it differs from the plain triple loop only by FMA rounding).
 */
public final class CpuGemm {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final VectorSpecies<Float> S = MicroKernels.S;
    private static final int V = MicroKernels.V, NR = MicroKernels.NR;
    private static final ByteOrder LE = ByteOrder.nativeOrder();
    /** K block: a KC x NR slab of a B panel is 64 KB (AVX-512), read from L1/L2 by every row panel. */
    static final int KC = 512;
    /** Packed A per chunk at most this many floats (512 KB: a quarter of a 2 MB L2). */
    private static final int A_BLOCK_FLOATS = 128 * 1024;
    /** Below this many multiply-adds a GEMM runs on the calling thread (a parallel loop would cost more). */
    private static final long SERIAL_FMAS = 1 << 16;

    private CpuGemm() {}

    /** A matrix in memory: element (i, k) at {@code seg[base + i*rs + k*cs]} (element offsets). */
    public record Operand(MemorySegment seg, long base, long rs, long cs) {
        float get(long i, long k) { return seg.getAtIndex(F, base + i * rs + k * cs); }
    }

    /**
     * C (m x n, row-major with row stride ldc, at element {@code cBase} of {@code c}) = alpha op(A) op(B) + beta C
     * + bias[j]. op(A) is m x k, op(B) is k x n; {@code bias} (n floats) may be null; with beta == 0 C is not read.
     */
    public static void gemm(JavaDevice dev, int m, int n, int k, Operand a, Operand b, MemorySegment c, long cBase,
                            long ldc, float alpha, float beta, MemorySegment bias) {
        int nTiles = (n + NR - 1) / NR, mr = Tiles.rows(m), panels = (m + mr - 1) / mr;
        boolean serial = (long) m * n * k < SERIAL_FMAS;
        float[] bp = Scratch.get().floats(Scratch.Slot.B, (long) nTiles * k * NR);
        float[] ap = Scratch.get().floats(Scratch.Slot.A, (long) panels * mr * k);
        int[] seq = Pack.seq(k);
        // pack B panels (k x NR each) and A panels (mr x k each) in one parallel loop
        dev.parallelFor(serial ? 1 : nTiles + panels, ch -> {
            for (int i = serial ? 0 : ch, i1 = serial ? nTiles + panels : ch + 1; i < i1; i++)
                if (i < nTiles) Pack.b(b.seg(), b.base(), b.rs(), b.cs(), i * NR, n, k, bp, i * k * NR);
                else Pack.a(a.seg(), a.base(), a.rs(), a.cs(), (i - nTiles) * mr, mr, m, 0, k, ap, (i - nTiles) * mr * k);
        });
        // chunk = (column tile, block of row panels); a block's panels hold A_BLOCK_FLOATS of packed A at most
        int most = Math.max(1, Math.min(panels, A_BLOCK_FLOATS / Math.max(1, mr * k)));
        int blocks = (panels + most - 1) / most;
        int perBlock = (panels + blocks - 1) / blocks;   // even blocks: 43 panels in 15 + 15 + 13, not 21 + 21 + 1
        // block-major chunks: consecutive chunks share an A block (in L2) and stream B panels (64 KB each) past it
        dev.parallelFor(serial ? 1 : nTiles * blocks, ch -> {
            int t0 = serial ? 0 : ch % nTiles, t1 = serial ? nTiles : t0 + 1;
            int b0 = serial ? 0 : ch / nTiles, b1 = serial ? blocks : b0 + 1;
            float[] tile = Scratch.get().floats(Scratch.Slot.TILE, (long) perBlock * mr * NR);
            for (int blk = b0; blk < b1; blk++) {
                int p0 = blk * perBlock, p1 = Math.min(panels, p0 + perBlock);
                for (int t = t0; t < t1; t++) {
                    int j = t * NR;
                    for (int k0 = 0; k0 < k; k0 += KC) {
                        int k1 = Math.min(k, k0 + KC);
                        for (int p = p0; p < p1; p++)
                            Tiles.packed(mr, ap, p * mr * k + k0 * mr, bp, seq, k0, k1, t * k * NR, tile, (p - p0) * mr * NR, k0 > 0);
                    }
                    for (int p = p0; p < p1; p++)
                        store(tile, (p - p0) * mr * NR, Math.min(mr, m - p * mr), Math.min(NR, n - j), c,
                                cBase + p * mr * ldc + j, ldc, alpha, beta, bias, j);
                }
            }
        });
    }

    /**
     * Writes a tile: {@code C[r][q] = alpha t[r][q] (+ beta C[r][q]) (+ bias[j0 + q])} for r < rows, q < cols, in this
     * order of roundings in both the vector and the scalar loop.
     */
    static void store(float[] t, int to, int rows, int cols, MemorySegment c, long c0, long ldc, float alpha, float beta,
                      MemorySegment bias, int j0) {
        for (int r = 0; r < rows; r++) {
            long row = c0 + r * ldc;
            int ti = to + r * NR, q = 0;
            for (; q + V <= cols; q += V) {
                FloatVector v = FloatVector.fromArray(S, t, ti + q);
                if (alpha != 1f) v = v.mul(alpha);
                if (beta != 0f) v = v.add(FloatVector.fromMemorySegment(S, c, (row + q) * 4, LE).mul(beta));
                if (bias != null) v = v.add(FloatVector.fromMemorySegment(S, bias, (long) (j0 + q) * 4, LE));
                v.intoMemorySegment(c, (row + q) * 4, LE);
            }
            for (; q < cols; q++) {
                float v = t[ti + q];
                if (alpha != 1f) v *= alpha;
                if (beta != 0f) v += c.getAtIndex(F, row + q) * beta;
                if (bias != null) v += bias.getAtIndex(F, j0 + q);
                c.setAtIndex(F, row + q, v);
            }
        }
    }

    static int ceil(int a, int b) { return (a + b - 1) / b * b; }
}
