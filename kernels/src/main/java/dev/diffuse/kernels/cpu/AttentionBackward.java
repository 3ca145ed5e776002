package dev.diffuse.kernels.cpu;

import static dev.diffuse.kernels.cpu.AttentionForward.stage;
import static dev.diffuse.kernels.cpu.AttentionForward.transposeBlock;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import dev.diffuse.runtime.JavaDevice;

/**
 * Attention backward on the CPU engine: one chunk per (batch, head), blocks of {@link AttentionForward#QB} queries,
 * everything transposed as in {@link AttentionForward} (keys down the rows, the block's queries along the lanes):
 * <pre>
 *   S^T = K Q^T,  P^T = exp(scale S^T - lse),  dP^T = V dO^T,  dS^T = scale P^T (dP^T - delta),  delta_i = dO_i . o_i
 *   dV += P^T dO,  dK += dS^T Q     (A = the score buffer read in place, accumulated over query blocks in order)
 *   dQ^T = K^T dS^T                  (written per block)
 * </pre>
 * Five products on the micro-kernel with K, V and K^T packed once per chunk; all sums in a fixed order, so results
 * are bit-identical run to run and for any thread count.
 */
public final class AttentionBackward {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final VectorSpecies<Float> S = MicroKernels.S;
    private static final int V = MicroKernels.V, NR = Tiles.NR;

    private AttentionBackward() {}

    /**
     * dq, dk, dv written; delta (bh, n) overwritten with rowsum(dO * o). Layouts as in {@link AttentionForward#forward}:
     * token-major, or {@code channelFirst}; both give the same bits.
     */
    public static void backward(JavaDevice dev, MemorySegment dq, MemorySegment dk, MemorySegment dv, MemorySegment dO,
                                MemorySegment q, MemorySegment k, MemorySegment v, MemorySegment o, MemorySegment lse,
                                MemorySegment delta, int bh, int n, int d, float scale, boolean channelFirst) {
        int is = channelFirst ? 1 : d, es = channelFirst ? n : 1;     // element (i, e) of a problem at i*is + e*es
        int mrK = Tiles.rows(n), mrE = Tiles.rows(d), kPanels = (n + mrK - 1) / mrK, ePanels = (d + mrE - 1) / mrE;
        int dpad = ConvGeometry.ceil(d, NR), eTiles = dpad / NR, keysPad = kPanels * mrK;
        int[] seq = Pack.seq(Math.max(keysPad, d));
        dev.parallelFor(bh, h -> {
            long base = (long) h * n * d, rowBase = (long) h * n;
            Scratch s = Scratch.get();
            // this head's Q, K, V, dO, O staged on the heap by bulk copies (n x d each)
            float[] qh = stage(s, Scratch.Slot.ROWS, q, base, n * d), kh = stage(s, Scratch.Slot.TILE2, k, base, n * d);
            float[] vh = stage(s, Scratch.Slot.C3, v, base, n * d), doh = stage(s, Scratch.Slot.PACK2, dO, base, n * d);
            float[] oh = stage(s, Scratch.Slot.STAGE, o, base, n * d);
            float[] ak = s.floats(Scratch.Slot.A, (long) keysPad * d), av = s.floats(Scratch.Slot.A2, (long) keysPad * d);
            float[] akt = s.floats(Scratch.Slot.A3, (long) ePanels * mrE * n);
            for (int p = 0; p < kPanels; p++) {
                Pack.a(kh, 0, is, es, p * mrK, mrK, n, 0, d, ak, p * mrK * d);
                Pack.a(vh, 0, is, es, p * mrK, mrK, n, 0, d, av, p * mrK * d);
            }
            for (int p = 0; p < ePanels; p++) Pack.a(kh, 0, es, is, p * mrE, mrE, d, 0, n, akt, p * mrE * n);
            float[] bq = s.floats(Scratch.Slot.B, (long) d * NR), bdo = s.floats(Scratch.Slot.B2, (long) d * NR);
            float[] qRows = s.floats(Scratch.Slot.B3, (long) NR * dpad), doRows = s.floats(Scratch.Slot.B4, (long) NR * dpad);
            float[] sc = s.floats(Scratch.Slot.PLANES, (long) keysPad * NR), dp = s.floats(Scratch.Slot.TRANSPOSED, (long) keysPad * NR);
            float[] dqT = s.floats(Scratch.Slot.TILE, (long) ePanels * mrE * NR), stats = s.floats(Scratch.Slot.STATS, 2L * NR);
            float[] dkAcc = s.floats(Scratch.Slot.C, (long) keysPad * dpad), dvAcc = s.floats(Scratch.Slot.C2, (long) keysPad * dpad);
            Arrays.fill(dkAcc, 0, keysPad * dpad, 0f);
            Arrays.fill(dvAcc, 0, keysPad * dpad, 0f);
            for (int i0 = 0; i0 < n; i0 += NR) {
                int nq = Math.min(NR, n - i0);
                transposeBlock(qh, is, es, i0, nq, d, bq);
                transposeBlock(doh, is, es, i0, nq, d, bdo);
                rows(qh, is, es, i0, nq, d, dpad, qRows);
                rows(doh, is, es, i0, nq, d, dpad, doRows);
                for (int i = 0; i < NR; i++) {         // lse_i and delta_i = dO_i . o_i (0 for the padding lanes)
                    float de = 0f;
                    if (i < nq) for (int e = 0; e < d; e++) de = Math.fma(doRows[i * dpad + e], oh[(i0 + i) * is + e * es], de);
                    stats[i] = i < nq ? lse.getAtIndex(F, rowBase + i0 + i) : 0f;
                    stats[NR + i] = de;
                    if (i < nq) delta.setAtIndex(F, rowBase + i0 + i, de);
                }
                for (int p = 0; p < kPanels; p++) {
                    Tiles.packed(mrK, ak, p * mrK * d, bq, seq, 0, d, 0, sc, p * mrK * NR, false);
                    Tiles.packed(mrK, av, p * mrK * d, bdo, seq, 0, d, 0, dp, p * mrK * NR, false);
                }
                scores(sc, dp, keysPad, scale, stats);
                for (int p = 0; p < kPanels; p++)
                    for (int et = 0; et < eTiles; et++) {
                        int co = (p * eTiles + et) * mrK * NR;
                        Tiles.rows(mrK, sc, seq, p * mrK, 0, nq, doRows, et * NR, dpad, dvAcc, co, true);
                        Tiles.rows(mrK, dp, seq, p * mrK, 0, nq, qRows, et * NR, dpad, dkAcc, co, true);
                    }
                for (int p = 0; p < ePanels; p++) Tiles.packed(mrE, akt, p * mrE * n, dp, seq, 0, n, 0, dqT, p * mrE * NR, false);
                if (channelFirst) {                          // dq columns of the block: a run per e
                    for (int e = 0; e < d; e++) MemorySegment.copy(dqT, e * NR, dq, F, (base + (long) e * n + i0) * 4, nq);
                } else {                                     // dq rows of the block, via the (free) dO staging rows
                    for (int i = 0; i < nq; i++)
                        for (int e = 0; e < d; e++) doRows[i * d + e] = dqT[e * NR + i];
                    MemorySegment.copy(doRows, 0, dq, F, (base + (long) i0 * d) * 4, nq * d);
                }
            }
            for (int j = 0; j < n; j++)                      // dK, dV from the tile layout, staged through kh, vh
                for (int e = 0; e < d; e++) {
                    int p = j / mrK, r = j - p * mrK, et = e / NR, idx = ((p * eTiles + et) * mrK + r) * NR + e - et * NR;
                    kh[j * is + e * es] = dkAcc[idx];
                    vh[j * is + e * es] = dvAcc[idx];
                }
            MemorySegment.copy(kh, 0, dk, F, base * 4, n * d);
            MemorySegment.copy(vh, 0, dv, F, base * 4, n * d);
        });
    }

    /** rows[i*dpad + e] = t(i0 + i, e) (element (i, e) at i*is + e*es) for i < nq, e < d; 0 elsewhere. */
    private static void rows(float[] t, int is, int es, int i0, int nq, int d, int dpad, float[] rows) {
        Arrays.fill(rows, 0, NR * dpad, 0f);
        if (es == 1) for (int i = 0; i < nq; i++) System.arraycopy(t, (i0 + i) * is, rows, i * dpad, d);
        else for (int e = 0; e < d; e++)
            for (int i = 0, src = e * es + i0 * is; i < nq; i++, src += is) rows[i * dpad + e] = t[src];
    }

    /** sc: S^T -> P^T = exp(scale S^T - lse); dp: dP^T -> scale P^T (dP^T - delta). Lanes are the block's queries. */
    private static void scores(float[] sc, float[] dp, int keys, float scale, float[] stats) {
        FloatVector sv = FloatVector.broadcast(S, scale);
        for (int h = 0; h < NR; h += V) {
            FloatVector negLse = FloatVector.fromArray(S, stats, h).neg(), delta = FloatVector.fromArray(S, stats, NR + h);
            for (int j = 0; j < keys; j++) {
                int at = j * NR + h;
                FloatVector p = VectorMath.exp(FloatVector.fromArray(S, sc, at).fma(sv, negLse));
                p.intoArray(sc, at);
                p.mul(FloatVector.fromArray(S, dp, at).sub(delta)).mul(sv).intoArray(dp, at);
            }
        }
    }
}
