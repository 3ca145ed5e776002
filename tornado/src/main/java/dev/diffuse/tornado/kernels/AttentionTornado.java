package dev.diffuse.tornado.kernels;

import dev.diffuse.tornado.Tasks;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Scaled dot-product attention forward for TornadoVM (KernelContext API), flash style: the N x N score matrix is
 * never stored. Per (batch, head), queries i and keys j:
 * <pre>
 *   S_ij = scale q_i . k_j;   o_i = sum_j exp(S_ij - m_i) v_j / sum_j exp(S_ij - m_i)
 * </pre>
 * with the row max m_i and the denominator accumulated online over key tiles: when a tile raises the running max from
 * m to m', the partial sums so far are rescaled by exp(m - m'). One work-group of {@value #BR} items per (tile of BR
 * queries, b h) (group ids x and y), one query row per item; each key tile of {@value #BC} rows of K and V is staged in
 * local memory once for the whole group.
 *
 * <p>Per-item state lives in the item's rows of local memory, not in private variables: its q row, o accumulator, tile
 * scores, running max and denominator. Two TornadoVM/PoCL failures forced this. With private arrays for q and o,
 * TornadoVM 5.2.1 dropped the stores of the accumulator when it fully unrolled the loops of a small head dim (all-zero
 * output for N = 7, D = 5) and failed to compile others ({@code TornadoRuntimeException: logic node
 * (class=jdk.graal.compiler.nodes.LogicConstantNode)} for N = 49, D = 32); with q and o in local memory but the running
 * max and denominator in private scalars that live across the tile loop's barrier, the denominator read after the
 * loop was 0 (all-zero output again). With everything in local memory every tested shape matches the Java reference.
 * Local memory: (2 BC + 2 BR) MAX_D + BR BC + 2 BR floats = 33 KB.
 *
 * <p>Layout by strides: element (b, h, token t, dim e) of Q, K, V is at {@code base + b sb + h sh + t sn + e sd}, of O at
 * the out strides. The heads layout (B, heads, N, D) of {@link dev.diffuse.kernels.attention.Attention} has
 * {@code (sb, sh, sn, sd) = (heads N D, N D, D, 1)}; the U-Net's channel layout (B, C, H, W) with C = heads D (what the
 * 1x1 projections write) has {@code sn = 1, sd = N}, so the U-Net runs attention on its projections directly, without
 * the two transposes around it. Head dim up to {@value #MAX_D}.
 */
public final class AttentionTornado {
    static final int BR = 16, BC = 16;
    /** Largest head dimension: the row length of the local tiles (the Java and OpenCL kernels take up to 256). */
    public static final int MAX_D = 128;

    private AttentionTornado() {}

    public static void forwardKernel(KernelContext kc, FloatArray act, int o, int q, int k, int v, int heads, int n, int d,
                                     int sb, int sh, int sn, int sd, int osb, int osh, int osn, int osd, float scale) {
        int lid = kc.localIdx, i = kc.groupIdx * BR + lid, bh = kc.groupIdy;
        int b = bh / heads, hh = bh - b * heads;
        int in = b * sb + hh * sh, out = b * osb + hh * osh;
        float[] ks = kc.allocateFloatLocalArray(BC * MAX_D);
        float[] vs = kc.allocateFloatLocalArray(BC * MAX_D);
        float[] qs = kc.allocateFloatLocalArray(BR * MAX_D);   // row lid: this item's query
        float[] os = kc.allocateFloatLocalArray(BR * MAX_D);   // row lid: this item's output accumulator
        float[] ss = kc.allocateFloatLocalArray(BR * BC);      // row lid: this item's scores of the current tile
        float[] ml = kc.allocateFloatLocalArray(2 * BR);        // this item's running max and denominator
        int row = lid * MAX_D, srow = lid * BC;

        int iq = Math.min(i, n - 1);                            // items past the last query compute a copy, store nothing
        for (int e = 0; e < d; e++) {
            qs[row + e] = act.get(q + in + iq * sn + e * sd);
            os[row + e] = 0f;
        }
        ml[2 * lid] = Float.NEGATIVE_INFINITY;
        ml[2 * lid + 1] = 0f;
        for (int j0 = 0; j0 < n; j0 += BC) {
            for (int e = lid; e < BC * d; e += BR) {
                int jj, dd;
                if (sn == 1) { // channel layout: consecutive items read consecutive tokens
                    dd = e / BC;
                    jj = e - dd * BC;
                } else {       // heads layout: consecutive items read consecutive dims
                    jj = e / d;
                    dd = e - jj * d;
                }
                int j = Math.min(j0 + jj, n - 1);
                ks[jj * MAX_D + dd] = act.get(k + in + j * sn + dd * sd);
                vs[jj * MAX_D + dd] = act.get(v + in + j * sn + dd * sd);
            }
            kc.localBarrier();
            int cnt = Math.min(BC, n - j0);
            float m = ml[2 * lid], l = ml[2 * lid + 1];
            float tmax = m;
            for (int jj = 0; jj < cnt; jj++) {
                float s = 0f;
                for (int e = 0; e < d; e++) s += qs[row + e] * ks[jj * MAX_D + e];
                s = scale * s;
                ss[srow + jj] = s;
                tmax = Math.max(tmax, s);
            }
            float corr = TornadoMath.exp(m - tmax);
            l = l * corr;
            for (int e = 0; e < d; e++) os[row + e] = os[row + e] * corr;
            for (int jj = 0; jj < cnt; jj++) {
                float p = TornadoMath.exp(ss[srow + jj] - tmax);
                l += p;
                for (int e = 0; e < d; e++) os[row + e] += p * vs[jj * MAX_D + e];
            }
            ml[2 * lid] = tmax;
            ml[2 * lid + 1] = l;
            kc.localBarrier();
        }
        if (i < n) {
            float inv = 1f / ml[2 * lid + 1];
            for (int e = 0; e < d; e++) act.set(o + out + i * osn + e * osd, os[row + e] * inv);
        }
    }

    /** Element strides (batch, head, token, dim) of one attention operand layout. */
    public record Layout(int batch, int head, int token, int dim) {
        /** (B, heads, N, D) contiguous. */
        public static Layout heads(int heads, int n, int d) { return new Layout(heads * n * d, n * d, d, 1); }

        /** (B, channels, N) with head h at channels h D .. (h+1) D - 1 of a tensor with {@code channels} channels. */
        public static Layout channels(int channels, int n, int d) { return new Layout(channels * n, d * n, 1, n); }
    }

    /** O = softmax(scale Q K^T) V per (b, h); Q, K, V at offsets q, k, v with layout {@code in}, O at o with {@code out}. */
    public static void forward(Tasks t, FloatArray act, int o, int q, int k, int v, int nb, int heads, int n, int d,
                               Layout in, Layout out, float scale) {
        if (d > MAX_D)
            throw new IllegalArgumentException("attention (TornadoVM): head dim " + d + " exceeds " + MAX_D
                    + "; use more heads (attention_head_dim <= " + MAX_D + ")");
        String id = t.name("attention");
        t.graph().task(id, AttentionTornado::forwardKernel, new KernelContext(), act, o, q, k, v, heads, n, d,
                in.batch(), in.head(), in.token(), in.dim(), out.batch(), out.head(), out.token(), out.dim(), scale);
        t.grid(id, Tasks.grid2d((long) (n + BR - 1) / BR * BR, (long) nb * heads, BR, 1));
    }
}
