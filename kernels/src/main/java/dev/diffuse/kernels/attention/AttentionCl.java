package dev.diffuse.kernels.attention;

import java.util.Map;

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
 * attention_backward_v4.cl), else the scalar kernels.
 */
final class AttentionCl {
    static final String SRC = "dev/diffuse/kernels/attention.cl";
    static final String BACKWARD = "dev/diffuse/kernels/attention_backward.cl";
    static final String BACKWARD_V4 = "dev/diffuse/kernels/attention_backward_v4.cl";
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
        int bh = q.dim(0) * q.dim(1), n = q.dim(2), d = q.dim(3), dp = dpad(d);
        int[] t = forwardTile(dp);
        int br = t[0] * t[1];
        String kernel = dp % 64 == 0 ? "attn_forward_v4" : "attn_forward";
        c.kernel(SRC, kernel, Map.of("HEAD_DIM", d, "DPAD", dp, "TY", t[0], "RM", t[1], "CN", t[2]))
                .launch(new long[]{(long) (n + br - 1) / br * T, (long) bh * t[0]}, new long[]{T, t[0]}, o, lse, q, k, v, n, scale);
    }

    static void backward(ClDevice c, Tensor dq, Tensor dk, Tensor dv, Tensor dO, Tensor q, Tensor k, Tensor v,
                         Tensor o, Tensor lse, Tensor delta, float scale) {
        int bh = q.dim(0) * q.dim(1), n = q.dim(2), d = q.dim(3), dp = dpad(d);
        int[] t = backwardTile(dp);
        Map<String, Integer> defs = Map.of("HEAD_DIM", d, "DPAD", dp, "BR", t[0], "BC", t[1], "DC", t[2]);
        c.kernel(BACKWARD, "attn_delta", Map.of("HEAD_DIM", d)).launch1d((long) bh * n, 256, delta, dO, o, bh * n);
        boolean v4 = dp % 64 == 0;
        String src = v4 ? BACKWARD_V4 : BACKWARD, suffix = v4 ? "_v4" : "";
        c.kernel(src, "attn_bwd_kv" + suffix, defs).launch(new long[]{(long) (n + t[1] - 1) / t[1] * T, (long) bh * T},
                new long[]{T, T}, dk, dv, dO, q, k, v, lse, delta, n, scale);
        c.kernel(src, "attn_bwd_q" + suffix, defs).launch(new long[]{(long) (n + t[0] - 1) / t[0] * T, (long) bh * T},
                new long[]{T, T}, dq, dO, q, k, v, lse, delta, n, scale);
    }

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
