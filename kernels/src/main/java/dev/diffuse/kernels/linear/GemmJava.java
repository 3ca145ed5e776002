package dev.diffuse.kernels.linear;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.diffuse.kernels.cpu.CpuGemm;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Java GEMM: {@link #reference} is the readable definition; {@link #fast} runs the CPU engine's packed-panel GEMM
 * ({@link CpuGemm}). Each C element is one sum in increasing k, so the result is deterministic and independent of the
 * thread count (it differs from {@link #reference} only by FMA rounding).
 */
final class GemmJava {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

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
        CpuGemm.Operand opA = ta ? new CpuGemm.Operand(a.segment(), 0, 1, m) : new CpuGemm.Operand(a.segment(), 0, k, 1);
        CpuGemm.Operand opB = tb ? new CpuGemm.Operand(b.segment(), 0, 1, k) : new CpuGemm.Operand(b.segment(), 0, n, 1);
        CpuGemm.gemm(d, m, n, k, opA, opB, c.segment(), 0, n, alpha, beta, bias == null ? null : bias.segment());
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
