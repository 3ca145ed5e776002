package dev.diffuse.kernels.linear;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Java GEMM: {@link #reference} is the readable definition; {@link #fast} packs op(A) into MR-row panels and op(B)
 * into NR-column panels (zero-padded, k-major inside a panel) and runs an MR x NR register-blocked micro-kernel
 * with {@link FloatVector} FMAs, chunks of (column panel, row-panel block) spread over {@link JavaDevice#parallelFor}.
 * Each C element is still one sum in increasing k computed by one thread, so the result is deterministic (it
 * differs from {@link #reference} only by FMA rounding).
 */
final class GemmJava {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    static final int MR = 4;            // rows per micro-tile
    static final int NR = 2 * VL;       // columns per micro-tile (two vectors)
    private static final int ROW_PANELS_PER_CHUNK = 16;

    private GemmJava() {}

    /** op(A)[i][k] and op(B)[k][j] read straight from row-major storage. */
    private static float opA(MemorySegment a, boolean t, int i, int k, int m, int kk) {
        return a.getAtIndex(F, t ? (long) k * m + i : (long) i * kk + k);
    }

    private static float opB(MemorySegment b, boolean t, int k, int j, int n, int kk) {
        return b.getAtIndex(F, t ? (long) j * kk + k : (long) k * n + j);
    }

    /** C[i][j] = alpha * sum_k op(A)[i][k] op(B)[k][j] + beta * C[i][j] (+ bias[j]). */
    static void reference(Tensor c, Tensor a, Tensor b, Tensor bias, boolean ta, boolean tb, float alpha, float beta,
                          int m, int n, int k) {
        MemorySegment cs = c.segment(), as = a.segment(), bs = b.segment();
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                float s = 0f;
                for (int p = 0; p < k; p++) s += opA(as, ta, i, p, m, k) * opB(bs, tb, p, j, n, k);
                store(cs, (long) i * n + j, s, alpha, beta, bias, j);
            }
    }

    private static void store(MemorySegment cs, long idx, float s, float alpha, float beta, Tensor bias, int j) {
        float v = alpha * s;
        if (beta != 0f) v += beta * cs.getAtIndex(F, idx);
        if (bias != null) v += bias.segment().getAtIndex(F, j);
        cs.setAtIndex(F, idx, v);
    }

    static void fast(JavaDevice d, Tensor c, Tensor a, Tensor b, Tensor bias, boolean ta, boolean tb, float alpha,
                     float beta, int m, int n, int k) {
        MemorySegment cs = c.segment(), as = a.segment(), bs = b.segment();
        MemorySegment biasSeg = bias == null ? null : bias.segment();
        int mPanels = (m + MR - 1) / MR, nPanels = (n + NR - 1) / NR;
        // Pack: ap[(ip*k + p)*MR + r] = op(A)[ip*MR + r][p]; bp[(jp*k + p)*NR + q] = op(B)[p][jp*NR + q]; zero pad.
        float[] ap = new float[mPanels * k * MR], bp = new float[nPanels * k * NR];
        d.parallelFor(mPanels, ip -> {
            for (int r = 0; r < MR && ip * MR + r < m; r++)
                for (int p = 0; p < k; p++) ap[(ip * k + p) * MR + r] = opA(as, ta, ip * MR + r, p, m, k);
        });
        d.parallelFor(nPanels, jp -> {
            for (int p = 0; p < k; p++)
                for (int q = 0; q < NR && jp * NR + q < n; q++) bp[(jp * k + p) * NR + q] = opB(bs, tb, p, jp * NR + q, n, k);
        });
        int blocks = (mPanels + ROW_PANELS_PER_CHUNK - 1) / ROW_PANELS_PER_CHUNK;
        d.parallelFor(nPanels * blocks, chunk -> {
            int jp = chunk / blocks, blk = chunk % blocks;
            float[] tile = new float[MR * NR];
            int ipEnd = Math.min(mPanels, (blk + 1) * ROW_PANELS_PER_CHUNK);
            for (int ip = blk * ROW_PANELS_PER_CHUNK; ip < ipEnd; ip++) {
                micro(ap, ip * k * MR, bp, jp * k * NR, k, tile);
                int i0 = ip * MR, j0 = jp * NR;
                for (int r = 0; r < MR && i0 + r < m; r++)
                    for (int q = 0; q < NR && j0 + q < n; q++) {
                        long idx = (long) (i0 + r) * n + j0 + q;
                        float v = alpha * tile[r * NR + q];
                        if (beta != 0f) v += beta * cs.getAtIndex(F, idx);
                        if (biasSeg != null) v += biasSeg.getAtIndex(F, j0 + q);
                        cs.setAtIndex(F, idx, v);
                    }
            }
        });
    }

    /** tile[r][q] = sum_p A-panel[p][r] * B-panel[p][q] with 8 vector accumulators (MR=4 rows x 2 vectors). */
    private static void micro(float[] ap, int ao, float[] bp, int bo, int k, float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        for (int p = 0; p < k; p++) {
            int bi = bo + p * NR, ai = ao + p * MR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi), b1 = FloatVector.fromArray(S, bp, bi + VL);
            FloatVector a0 = FloatVector.broadcast(S, ap[ai]);
            c00 = b0.fma(a0, c00);
            c01 = b1.fma(a0, c01);
            FloatVector a1 = FloatVector.broadcast(S, ap[ai + 1]);
            c10 = b0.fma(a1, c10);
            c11 = b1.fma(a1, c11);
            FloatVector a2 = FloatVector.broadcast(S, ap[ai + 2]);
            c20 = b0.fma(a2, c20);
            c21 = b1.fma(a2, c21);
            FloatVector a3 = FloatVector.broadcast(S, ap[ai + 3]);
            c30 = b0.fma(a3, c30);
            c31 = b1.fma(a3, c31);
        }
        c00.intoArray(tile, 0);
        c01.intoArray(tile, VL);
        c10.intoArray(tile, NR);
        c11.intoArray(tile, NR + VL);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + VL);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + VL);
    }

    /** db[j] += sum_i dy[i][j], rows in increasing i; chunks of columns in parallel. */
    static void colSum(JavaDevice d, Tensor db, Tensor dy, int m, int n) {
        MemorySegment dbs = db.segment(), dys = dy.segment();
        final int cols = 256;
        d.parallelFor((n + cols - 1) / cols, chunk -> {
            int j0 = chunk * cols, j1 = Math.min(n, j0 + cols);
            float[] acc = new float[j1 - j0];
            for (int i = 0; i < m; i++)
                for (int j = j0; j < j1; j++) acc[j - j0] += dys.getAtIndex(F, (long) i * n + j);
            for (int j = j0; j < j1; j++) dbs.setAtIndex(F, j, dbs.getAtIndex(F, j) + acc[j - j0]);
        });
    }
}
