package dev.diffuse.kernels.linear;

import java.util.Map;

import dev.diffuse.kernels.tuning.Tunings;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Tensor;

/**
 * OpenCL launcher for {@link Gemm} and the bias-gradient column sum. GEMM tuning records (the .cl reads the same
 * values as defines, the launch sizes derive from them): {@link #SMALL} 64x64x16 tiles with 4x4 per work-item and
 * {@link #LARGE} 128x64x16 with 8x4, both (16, 16) = 256 work-items. LARGE halves the local-memory reads per FMA
 * of A and is used once it still gives at least {@value #LARGE_MIN_GROUPS} work-groups (2 per SM on an H100's
 * 132 SMs); smaller problems keep SMALL for more groups. Those are the defaults; {@link GemmTuning} lets the tuner pick
 * another tiling per shape and device.
 */
final class GemmCl {
    static final String SRC = "dev/diffuse/kernels/linear.cl";
    /** A GEMM tiling: tile TM x TN, K-step TK, WM x WN outputs per work-item. */
    record Tiling(int tm, int tn, int tk, int wm, int wn) {
        Map<String, Object> defines(boolean ta, boolean tb, boolean bias) {
            return Map.of("TM", tm, "TN", tn, "TK", tk, "WM", wm, "WN", wn,
                    "TRANS_A", ta ? 1 : 0, "TRANS_B", tb ? 1 : 0, "HAS_BIAS", bias ? 1 : 0);
        }

        long groups(int m, int n) {
            return (long) ((m + tm - 1) / tm) * ((n + tn - 1) / tn);
        }
    }

    static final Tiling SMALL = new Tiling(64, 64, 16, 4, 4), LARGE = new Tiling(128, 64, 16, 8, 4);
    static final int LARGE_MIN_GROUPS = 264;
    static final int CS_W = 32, CS_H = 8, CS_MAX_PARTS = 128, CS_ROWS_PER_PART = 256;

    private GemmCl() {}

    static Tiling tiling(int m, int n) {
        return LARGE.groups(m, n) >= LARGE_MIN_GROUPS ? LARGE : SMALL;
    }

    static void gemm(ClDevice c, Tensor cm, Tensor a, Tensor b, Tensor bias, boolean ta, boolean tb, float alpha,
                     float beta, int m, int n, int k) {
        var p = Tunings.choose(c, GemmTuning.GEMM, GemmTuning.shape(m, n, k, ta, tb, bias != null));
        gemm(c, GemmTuning.tiling(p), cm, a, b, bias, ta, tb, alpha, beta, m, n, k);
    }

    static void gemm(ClDevice c, Tiling t, Tensor cm, Tensor a, Tensor b, Tensor bias, boolean ta, boolean tb,
                     float alpha, float beta, int m, int n, int k) {
        long gx = t.tn() / t.wn(), gy = t.tm() / t.wm();
        long[] global = {(long) ((n + t.tn() - 1) / t.tn()) * gx, (long) ((m + t.tm() - 1) / t.tm()) * gy};
        c.kernel(SRC, "gemm", t.defines(ta, tb, bias != null)).launch(global, new long[]{gx, gy},
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
