package dev.diffuse.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import dev.diffuse.runtime.JavaDevice;

/**
 * Attention forward on the CPU engine, flash-style: per (batch, head) and block of {@link #QB} queries, the keys are
 * visited in blocks of at most {@link #KB} with an online softmax, and the N x N score matrix is never formed.
 *
 * <p>The scores are computed transposed, {@code S^T = K Q^T} (keys x queries), so that a block's queries lie along
 * the vector lanes: the softmax over keys is then a lane-wise max and sum down the rows (no horizontal reductions),
 * and {@code O^T = V^T P^T} takes P^T straight from the score buffer as its B operand. Both products run on the
 * micro-kernel with K and V^T packed once per chunk. Per query i, over key blocks in order:
 * <pre>
 *   m' = max(m, max_j scale S_ji),  P_ji = exp(scale S_ji - m'),  l' = l e^(m - m') + sum_j P_ji,
 *   O^T_i = O^T_i e^(m - m') + V^T P_i;   finally o_i = O^T_i / l,  lse_i = m + log l
 * </pre>
 * (dividing once at the end keeps o exactly normalised, which the backward's delta = dO . o relies on). Every sum has
 * a fixed order and exp is {@link VectorMath#exp}, so results are bit-identical run to run and for any thread count.
 */
public final class AttentionForward {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final VectorSpecies<Float> S = MicroKernels.S;
    private static final int V = MicroKernels.V, NR = Tiles.NR;
    /** Queries per block: one micro-kernel tile wide. */
    static final int QB = NR;
    /** At most this many keys per block (a block's scores, KB x QB floats, stay in L1). */
    static final int KB = 256;

    private AttentionForward() {}

    /**
     * o = softmax(scale q k^T) v and lse (bh, n), for bh = batch * heads independent problems of n tokens and head dim
     * d. Each problem's q, k, v, o is a block of n * d floats: token-major (i, e) at {@code i*d + e}, the (B, heads,
     * N, D) layout, or with {@code channelFirst} at {@code e*n + i}, the (B, heads * D, N) layout of a 1x1 convolution's
     * output (no transposes needed around the projections). Both give the same bits.
     */
    public static void forward(JavaDevice dev, MemorySegment o, MemorySegment lse, MemorySegment q, MemorySegment k,
                               MemorySegment v, int bh, int n, int d, float scale, boolean channelFirst) {
        int is = channelFirst ? 1 : d, es = channelFirst ? n : 1;     // element (i, e) of a problem at i*is + e*es
        int qBlocks = (n + QB - 1) / QB;
        int splits = Math.max(1, Math.min(qBlocks, (2 * dev.threads() + bh - 1) / bh));
        int mrK = Tiles.rows(Math.min(n, KB)), mrV = Tiles.rows(d);
        int kPanels = (n + mrK - 1) / mrK, vPanels = (d + mrV - 1) / mrV, perBlock = Math.max(1, KB / mrK);
        int[] seq = Pack.seq(Math.max(d, perBlock * mrK));
        dev.parallelFor(bh * splits, ch -> {
            int h = ch / splits, part = ch % splits;
            int qb0 = part * qBlocks / splits, qb1 = (part + 1) * qBlocks / splits;
            if (qb0 >= qb1) return;
            long base = (long) h * n * d;
            Scratch s = Scratch.get();
            // this head's Q, K, V, staged on the heap by bulk copies (n x d each), then packed
            float[] qh = stage(s, Scratch.Slot.A2, q, base, n * d), kh = stage(s, Scratch.Slot.A3, k, base, n * d);
            float[] vh = stage(s, Scratch.Slot.C2, v, base, n * d);
            float[] ak = s.floats(Scratch.Slot.A, (long) kPanels * mrK * d);     // K rows, k-major over e
            float[] av = s.floats(Scratch.Slot.C, (long) vPanels * mrV * n);     // V^T rows (e), k-major over keys
            for (int p = 0; p < kPanels; p++) Pack.a(kh, 0, is, es, p * mrK, mrK, n, 0, d, ak, p * mrK * d);
            for (int p = 0; p < vPanels; p++) Pack.a(vh, 0, es, is, p * mrV, mrV, d, 0, n, av, p * mrV * n);
            float[] bq = s.floats(Scratch.Slot.B, (long) d * NR);               // Q^T of the block (d x QB)
            float[] sc = s.floats(Scratch.Slot.PLANES, (long) perBlock * mrK * NR); // S^T, then P^T, of a key block
            float[] ot = s.floats(Scratch.Slot.TILE, (long) vPanels * mrV * NR);  // O^T (d x QB)
            float[] stats = s.floats(Scratch.Slot.STATS, 4L * NR);              // m, l, alpha
            float[] out = s.floats(Scratch.Slot.B2, (long) NR * d + NR);             // the block's part of o
            for (int qb = qb0; qb < qb1; qb++) {
                int i0 = qb * QB, nq = Math.min(QB, n - i0);
                transposeBlock(qh, is, es, i0, nq, d, bq);
                for (int p0 = 0; p0 < kPanels; p0 += perBlock) {
                    int p1 = Math.min(kPanels, p0 + perBlock), j0 = p0 * mrK, jn = Math.min(n, p1 * mrK) - j0;
                    for (int p = p0; p < p1; p++)
                        Tiles.packed(mrK, ak, p * mrK * d, bq, seq, 0, d, 0, sc, (p - p0) * mrK * NR, false);
                    boolean first = p0 == 0;
                    softmaxBlock(sc, jn, scale, stats, first);
                    if (!first) rescale(ot, d, stats);
                    for (int p = 0; p < vPanels; p++)
                        Tiles.packed(mrV, av, p * mrV * n + j0 * mrV, sc, seq, 0, jn, 0, ot, p * mrV * NR, !first);
                }
                finish(ot, stats, out, o, lse, base, (long) h * n, i0, nq, n, d, channelFirst);
            }
        });
    }

    /** n floats of {@code t} from element {@code base}, bulk-copied into the thread's buffer for {@code slot}. */
    static float[] stage(Scratch s, Scratch.Slot slot, MemorySegment t, long base, int n) {
        float[] h = s.floats(slot, n);
        MemorySegment.copy(t, F, base * 4, h, 0, n);
        return h;
    }

    /**
     * bq[e*NR + i] = q(i0 + i, e) for i < nq, 0 for nq <= i < NR, from a staged problem with element (i, e) at
     * i*is + e*es: a row copy per e for the channel-first layout, a transpose for the token-major one.
     */
    static void transposeBlock(float[] q, int is, int es, int i0, int nq, int d, float[] bq) {
        if (is == 1) {
            for (int e = 0; e < d; e++) {
                System.arraycopy(q, e * es + i0, bq, e * NR, nq);
                if (nq < NR) java.util.Arrays.fill(bq, e * NR + nq, (e + 1) * NR, 0f);
            }
            return;
        }
        for (int i = 0; i < NR; i++)
            if (i < nq) for (int e = 0, src = (i0 + i) * is; e < d; e++) bq[e * NR + i] = q[src + e * es];
            else for (int e = 0; e < d; e++) bq[e * NR + i] = 0f;
    }

    /**
     * Replaces the block's scores sc (rows = jn keys, NR query lanes) by {@code P = exp(scale S - m')} and updates the
     * running max m (stats[0..NR)), sum l (stats[NR..2NR)) and the rescale factor alpha = e^(m - m') (stats[2NR..)).
     */
    static void softmaxBlock(float[] sc, int jn, float scale, float[] stats, boolean first) {
        for (int h = 0; h < NR; h += V) {
            FloatVector mx = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (int j = 0; j < jn; j++) mx = mx.max(FloatVector.fromArray(S, sc, j * NR + h).mul(scale));
            FloatVector mOld = first ? mx : FloatVector.fromArray(S, stats, h);
            FloatVector mNew = first ? mx : mOld.max(mx);
            FloatVector neg = mNew.neg(), sum = FloatVector.zero(S), sv = FloatVector.broadcast(S, scale);
            for (int j = 0; j < jn; j++) {
                FloatVector e = VectorMath.exp(FloatVector.fromArray(S, sc, j * NR + h).fma(sv, neg));
                e.intoArray(sc, j * NR + h);
                sum = sum.add(e);
            }
            FloatVector alpha = first ? FloatVector.broadcast(S, 1f) : VectorMath.exp(mOld.sub(mNew));
            FloatVector l = first ? sum : FloatVector.fromArray(S, stats, NR + h).mul(alpha).add(sum);
            mNew.intoArray(stats, h);
            l.intoArray(stats, NR + h);
            alpha.intoArray(stats, 2 * NR + h);
        }
    }

    /** O^T columns times alpha (a new key block raised the running max). */
    private static void rescale(float[] ot, int d, float[] stats) {
        FloatVector a0 = FloatVector.fromArray(S, stats, 2 * NR), a1 = FloatVector.fromArray(S, stats, 2 * NR + V);
        for (int e = 0; e < d; e++) {
            FloatVector.fromArray(S, ot, e * NR).mul(a0).intoArray(ot, e * NR);
            FloatVector.fromArray(S, ot, e * NR + V).mul(a1).intoArray(ot, e * NR + V);
        }
    }

    /**
     * o(i, e) = O^T[e][i] / l_i and lse_i = m_i + log l_i for the block's nq queries, built in {@code out} and copied
     * out in runs: the block's rows (token-major) or, channel-first, its columns of every e.
     */
    private static void finish(float[] ot, float[] stats, float[] out, MemorySegment o, MemorySegment lse, long base,
                               long lseBase, int i0, int nq, int n, int d, boolean channelFirst) {
        for (int i = 0; i < nq; i++) lse.setAtIndex(F, lseBase + i0 + i, stats[i] + (float) Math.log(stats[NR + i]));
        if (channelFirst) {
            FloatVector l0 = FloatVector.fromArray(S, stats, NR), l1 = FloatVector.fromArray(S, stats, NR + V);
            for (int e = 0; e < d; e++) {
                FloatVector.fromArray(S, ot, e * NR).div(l0).intoArray(out, e * NR);
                FloatVector.fromArray(S, ot, e * NR + V).div(l1).intoArray(out, e * NR + V);
                MemorySegment.copy(out, e * NR, o, F, (base + (long) e * n + i0) * 4, nq);
            }
            return;
        }
        for (int i = 0; i < nq; i++) {
            float l = stats[NR + i];
            for (int e = 0; e < d; e++) out[i * d + e] = ot[e * NR + i] / l;
        }
        MemorySegment.copy(out, 0, o, F, (base + (long) i0 * d) * 4, nq * d);
    }
}
