package dev.diffuse.kernels.linear;

import java.util.Map;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Tensor;

/**
 * OpenCL launcher for {@link Gemm} and the bias-gradient column sum. Tuning record: tile {@value #TM} x
 * {@value #TN} x {@value #TK}, {@value #WM} x {@value #WN} per work-item, so a (TN/WN, TM/WM) = (16, 16) work-group
 * of 256; the .cl reads the same values as defines.
 */
final class GemmCl {
    static final String SRC = "dev/diffuse/kernels/linear.cl";
    static final int TM = 64, TN = 64, TK = 16, WM = 4, WN = 4;
    static final int CS_W = 32, CS_H = 8, CS_MAX_PARTS = 128, CS_ROWS_PER_PART = 256;

    private GemmCl() {}

    static void gemm(ClDevice c, Tensor cm, Tensor a, Tensor b, Tensor bias, boolean ta, boolean tb, float alpha,
                     float beta, int m, int n, int k) {
        Map<String, Object> defines = Map.of("TM", TM, "TN", TN, "TK", TK, "WM", WM, "WN", WN,
                "TRANS_A", ta ? 1 : 0, "TRANS_B", tb ? 1 : 0, "HAS_BIAS", bias == null ? 0 : 1);
        long gx = TN / WN, gy = TM / WM;
        long[] global = {(long) ((n + TN - 1) / TN) * gx, (long) ((m + TM - 1) / TM) * gy};
        c.kernel(SRC, "gemm", defines).launch(global, new long[]{gx, gy},
                cm, a, b, bias == null ? cm : bias, m, n, k, alpha, beta);
    }

    /** Number of row chunks of the two-pass column sum: a function of M only, so results are reproducible. */
    static int parts(int m) {
        return Math.max(1, Math.min(CS_MAX_PARTS, (m + CS_ROWS_PER_PART - 1) / CS_ROWS_PER_PART));
    }

    static void colSum(ClDevice c, Tensor db, Tensor dy, int m, int n) {
        int p = parts(m), r = (m + p - 1) / p;
        Map<String, Object> defines = Map.of("CS_W", CS_W, "CS_H", CS_H);
        // Scratch for the partial sums; OpenCL frees it only after the queued kernels that use it have run.
        try (Tensor partial = Tensor.allocate(c, p, n)) {
            c.kernel(SRC, "colsum_partial", defines).launch(
                    new long[]{(long) ((n + CS_W - 1) / CS_W) * CS_W, (long) p * CS_H}, new long[]{CS_W, CS_H},
                    partial, dy, m, n, r);
            c.kernel(SRC, "colsum_final", defines).launch1d(n, 64, db, partial, n, p);
        }
    }
}
