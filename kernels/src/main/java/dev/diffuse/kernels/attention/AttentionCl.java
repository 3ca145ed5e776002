package dev.diffuse.kernels.attention;

import java.util.Map;

import dev.diffuse.kernels.tuning.Tunings;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Tensor;

/**
 * OpenCL launcher for {@link Attention}. Work-groups are 16 x 16 threads (16 x 8 for the D &gt; 128 forward); tile
 * sizes depend on the padded head dim DPAD so local memory stays under 48 KB (see attention.cl,
 * attention_backward.cl):
 * <pre>
 *   DPAD &lt;= 64:   forward BR=64, BC=32;  backward BR=BC=32, DC=DPAD
 *   DPAD &lt;= 128:  forward BR=32, BC=32;  backward BR=BC=16, DC=DPAD
 *   DPAD &lt;= 256:  forward BR=16, BC=16 (16 x 8 threads, 2 rows each);  backward BR=BC=16, DC=64
 *                  (the backward streams Q/dO or K/V in 64-column chunks)
 * </pre>
 * When DPAD is a multiple of 64 (D = 64, 128, 256 of the U-Nets) the float4 variants run ({@code attn_forward_v4},
 * attention_backward_v4.cl), else the scalar kernels. These are the defaults on GPUs; {@link AttentionTuning} lists
 * the tunables (the tiles above, and attention_direct.cl's CPU-shaped forward, the default on other devices).
 */
final class AttentionCl {
    static final String SRC = "dev/diffuse/kernels/attention.cl";
    static final String BACKWARD = "dev/diffuse/kernels/attention_backward.cl";
    static final String BACKWARD_V4 = "dev/diffuse/kernels/attention_backward_v4.cl";
    static final String DIRECT = "dev/diffuse/kernels/attention_direct.cl";
    static final int T = 16;

    private AttentionCl() {}

    /** D rounded up to 16 (to 64 above 128, so the 64-wide backward chunk divides it). */
    static int dpad(int d) { return d <= 128 ? (d + 15) / 16 * 16 : (d + 63) / 64 * 64; }

    /** Forward work-group rows TY, rows per thread RM (BR = TY RM) and key columns per thread CN (BC = 16 CN). */
    static int[] forwardTile(int dpad) {
        return dpad <= 64 ? new int[]{16, 4, 2} : dpad <= 128 ? new int[]{16, 2, 2} : new int[]{8, 2, 1};
    }

    /** Backward BR, BC, DC. */
    static int[] backwardTile(int dpad) {
        return dpad <= 64 ? new int[]{32, 32, dpad} : dpad <= 128 ? new int[]{16, 16, dpad} : new int[]{16, 16, 64};
    }

    static void forward(ClDevice c, Tensor o, Tensor lse, Tensor q, Tensor k, Tensor v, float scale) {
        forward(c, o, lse, q, k, v, scale, Tunings.choose(c, AttentionTuning.FORWARD, AttentionTuning.shape(q)));
    }

    /** Forward with explicit parameters: KERNEL=0 the flash kernels of attention.cl (TY, RM, CN), 1 attention_direct.cl. */
    static void forward(ClDevice c, Tensor o, Tensor lse, Tensor q, Tensor k, Tensor v, float scale, Map<String, Integer> p) {
        int bh = q.dim(0) * q.dim(1), n = q.dim(2), d = q.dim(3), dp = dpad(d);
        if (p.get("KERNEL") == 1) {
            direct(c, o, lse, q, k, v, scale, p, bh, n, d);
            return;
        }
        int ty = p.get("TY"), rm = p.get("RM"), br = ty * rm;
        String kernel = dp % 64 == 0 ? "attn_forward_v4" : "attn_forward";
        c.kernel(SRC, kernel, Map.of("HEAD_DIM", d, "DPAD", dp, "TY", ty, "RM", rm, "CN", p.get("CN")))
                .launch(new long[]{(long) (n + br - 1) / br * T, (long) bh * ty}, new long[]{T, ty}, o, lse, q, k, v, n, scale);
    }

    /** attention_direct.cl: K transposed per head (padded to VK keys), then one work-item per RQ query rows. */
    private static void direct(ClDevice c, Tensor o, Tensor lse, Tensor q, Tensor k, Tensor v, float scale,
                               Map<String, Integer> p, int bh, int n, int d) {
        int vk = p.get("VK"), rq = p.get("RQ"), wg = p.get("WG"), np = (n + vk - 1) / vk * vk;
        Map<String, Integer> defs = Map.of("HEAD_DIM", d, "VK", vk, "RQ", rq, "DV", p.get("DV"));
        try (Tensor kt = c.scratch(bh, d, np)) {
            c.kernel(DIRECT, "attn_keys_transpose", defs).launch1d(kt.numel(), 256, kt, k, bh, n, np);
            c.kernel(DIRECT, "attn_forward_direct", defs).launch2d((n + rq - 1) / rq, bh, wg, o, lse, q, kt, v, n, np, scale);
        }
    }

    static void backward(ClDevice c, Tensor dq, Tensor dk, Tensor dv, Tensor dO, Tensor q, Tensor k, Tensor v,
                         Tensor o, Tensor lse, Tensor delta, float scale) {
        backward(c, dq, dk, dv, dO, q, k, v, o, lse, delta, scale,
                Tunings.choose(c, AttentionTuning.BACKWARD, AttentionTuning.shape(q)));
    }

    /**
     * Backward with explicit parameters: KERNEL=0 the tiles BR, BC, DC (attention_backward.cl, or its float4 variant
     * when DPAD % 64 == 0), KERNEL=1 the direct kernels of attention_direct.cl (VK, DV, WG).
     */
    static void backward(ClDevice c, Tensor dq, Tensor dk, Tensor dv, Tensor dO, Tensor q, Tensor k, Tensor v,
                         Tensor o, Tensor lse, Tensor delta, float scale, Map<String, Integer> p) {
        int bh = q.dim(0) * q.dim(1), n = q.dim(2), d = q.dim(3), dp = dpad(d);
        c.kernel(BACKWARD, "attn_delta", Map.of("HEAD_DIM", d)).launch1d((long) bh * n, 256, delta, dO, o, bh * n);
        if (p.get("KERNEL") == 1) {
            directBackward(c, dq, dk, dv, dO, q, k, v, lse, delta, scale, p, bh, n, d);
            return;
        }
        int br = p.get("BR"), bc = p.get("BC");
        Map<String, Integer> defs = Map.of("HEAD_DIM", d, "DPAD", dp, "BR", br, "BC", bc, "DC", p.get("DC"));
        boolean v4 = v4(dp, p.get("DC"));
        String src = v4 ? BACKWARD_V4 : BACKWARD, suffix = v4 ? "_v4" : "";
        c.kernel(src, "attn_bwd_kv" + suffix, defs).launch(new long[]{(long) (n + bc - 1) / bc * T, (long) bh * T},
                new long[]{T, T}, dk, dv, dO, q, k, v, lse, delta, n, scale);
        c.kernel(src, "attn_bwd_q" + suffix, defs).launch(new long[]{(long) (n + br - 1) / br * T, (long) bh * T},
                new long[]{T, T}, dq, dO, q, k, v, lse, delta, n, scale);
    }

    /** attention_direct.cl's backward: K, V, Q, dO transposed per head (padded to VK), then dQ and dK, dV kernels. */
    private static void directBackward(ClDevice c, Tensor dq, Tensor dk, Tensor dv, Tensor dO, Tensor q, Tensor k, Tensor v,
                                       Tensor lse, Tensor delta, float scale, Map<String, Integer> p, int bh, int n, int d) {
        int vk = p.get("VK"), wg = p.get("WG"), np = (n + vk - 1) / vk * vk;
        Map<String, Integer> defs = Map.of("HEAD_DIM", d, "VK", vk, "RQ", 1, "DV", p.get("DV"));
        try (Tensor kt = c.scratch(bh, d, np); Tensor vt = c.scratch(bh, d, np); Tensor qt = c.scratch(bh, d, np);
             Tensor gt = c.scratch(bh, d, np)) {
            var transpose = c.kernel(DIRECT, "attn_keys_transpose", defs);
            Tensor[][] pairs = {{kt, k}, {vt, v}, {qt, q}, {gt, dO}};
            for (Tensor[] t : pairs) transpose.launch1d(t[0].numel(), 256, t[0], t[1], bh, n, np);
            c.kernel(DIRECT, "attn_bwd_q_direct", defs).launch2d(n, bh, wg, dq, dO, q, k, kt, vt, lse, delta, n, np, scale);
            c.kernel(DIRECT, "attn_bwd_kv_direct", defs).launch2d(n, bh, wg, dk, dv, dO, q, k, v, qt, gt, lse, delta, n, np, scale);
        }
    }

    /** The float4 backward runs when DPAD and the D-chunk DC are multiples of 64. */
    static boolean v4(int dpad, int dc) { return dpad % 64 == 0 && dc % 64 == 0; }

    static void transpose(ClDevice c, Tensor out, Tensor in, int b, int heads, int n, int hd, boolean toHeads) {
        int total = b * heads * n * hd;
        c.kernel(SRC, toHeads ? "attn_tokens_to_heads" : "attn_heads_to_tokens").launch1d(total, 256, out, in, heads, n, hd, total);
    }

    /** out (batch, cols, rows) from in (batch, rows, cols). */
    static void batchedTranspose(ClDevice c, Tensor out, Tensor in, int batch, int rows, int cols) {
        c.kernel(SRC, "attn_transpose").launch(new long[]{(cols + 31L) / 32 * 32, (rows + 31L) / 32 * 8, batch},
                new long[]{32, 8, 1}, out, in, rows, cols);
    }
}
