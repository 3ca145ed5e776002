package dev.diffuse.tornado.kernels;

import static dev.diffuse.tornado.kernels.TileGemm.RM;
import static dev.diffuse.tornado.kernels.TileGemm.RN;
import static dev.diffuse.tornado.kernels.TileGemm.TK;
import static dev.diffuse.tornado.kernels.TileGemm.TM;
import static dev.diffuse.tornado.kernels.TileGemm.TM1;
import static dev.diffuse.tornado.kernels.TileGemm.TN;
import static dev.diffuse.tornado.kernels.TileGemm.TN1;
import static dev.diffuse.tornado.kernels.TileGemm.WG;
import static dev.diffuse.tornado.kernels.TileGemm.WM;
import static dev.diffuse.tornado.kernels.TileGemm.WN;

import dev.diffuse.tornado.Tasks;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Linear layer / GEMM "NT" for TornadoVM (KernelContext API): {@code Y = X W^T + bias}, optionally followed by SiLU
 * (the time MLP's {@code silu(linear_1(...))}, fused):
 * <pre>
 *   Y[m, n] = act( bias[n] + sum_k X[m, k] W[n, k] )     X (M, K) in act, W (N, K) and bias (N) in par, Y (M, N)
 * </pre>
 * The tiling of {@link Conv2dTornado} (and of {@code gemm} in {@code linear.cl}): 16 x 16 items per group, a 64 x 64
 * tile of Y, K steps of 16 staged in local memory, a 4 x 4 register block per item; any M, N, K (edges guarded).
 * Consecutive items own consecutive columns n, so both operand loads run along their contiguous k and the stores
 * along n.
 */
public final class LinearTornado {

    private LinearTornado() {}

    public static void forwardKernel(KernelContext kc, FloatArray act, FloatArray par, int y, int x, int w, int bias,
                                     int m, int n, int k, int silu) {
        int tx = kc.localIdx, ty = kc.localIdy, lid = ty * WN + tx;
        int n0 = kc.groupIdx * TN, m0 = kc.groupIdy * TM;
        float[] as = kc.allocateFloatLocalArray(TK * TM1);
        float[] bs = kc.allocateFloatLocalArray(TK * TN1);
        float[] acc = new float[RM * RN];
        for (int i = 0; i < RM * RN; i++) acc[i] = 0f;
        for (int k0 = 0; k0 < k; k0 += TK) {
            for (int r = 0; r < TM * TK / WG; r++) {
                int e = lid + r * WG, mq = e / TK, kq = e - mq * TK;
                int gm = m0 + mq, gk = k0 + kq;
                as[kq * TM1 + mq] = gm < m && gk < k ? act.get(x + gm * k + gk) : 0f;
            }
            for (int r = 0; r < TN * TK / WG; r++) {
                int e = lid + r * WG, nq = e / TK, kq = e - nq * TK;
                int gn = n0 + nq, gk = k0 + kq;
                bs[kq * TN1 + nq] = gn < n && gk < k ? par.get(w + gn * k + gk) : 0f;
            }
            kc.localBarrier();
            for (int kq = 0; kq < TK; kq++) {   // see TileGemm: written out, not a helper
                for (int i = 0; i < RM; i++) {
                    float a = as[kq * TM1 + ty + i * WM];
                    for (int j = 0; j < RN; j++) acc[i * RN + j] += a * bs[kq * TN1 + tx + j * WN];
                }
            }
            kc.localBarrier();
        }
        for (int i = 0; i < RM; i++) {
            int row = m0 + ty + i * WM;
            for (int j = 0; j < RN; j++) {
                int col = n0 + tx + j * WN;
                if (row < m && col < n) {
                    float v = acc[i * RN + j] + par.get(bias + col);
                    if (silu != 0) v = v / (1f + TornadoMath.exp(-v));
                    act.set(y + row * n + col, v);
                }
            }
        }
    }

    /** Y (m, n) = X (m, k) W^T + bias, then SiLU when {@code silu}. */
    public static void forward(Tasks t, FloatArray act, FloatArray par, int y, int x, int w, int bias, int m, int n, int k,
                               boolean silu) {
        String id = t.name(silu ? "linear_silu" : "linear");
        t.graph().task(id, LinearTornado::forwardKernel, new KernelContext(), act, par, y, x, w, bias, m, n, k, silu ? 1 : 0);
        t.grid(id, Tasks.grid2d((long) (n + TN - 1) / TN * WN, (long) (m + TM - 1) / TM * WM, WN, WM));
    }
}
