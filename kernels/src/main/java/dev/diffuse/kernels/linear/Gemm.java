package dev.diffuse.kernels.linear;

import dev.diffuse.kernels.Checks;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Single-precision GEMM: {@code C = alpha * op(A) op(B) + beta * C}, with {@code op(X) = X} or {@code X^T}.
 * All matrices are rank-2, contiguous, row-major. op(A) is M x K (so A is (M, K), or (K, M) when {@code transA}),
 * op(B) is K x N (B is (K, N), or (N, K) when {@code transB}), C is (M, N). With {@code beta == 0} C is not read.
 * FLOPs per call: {@code 2 M N K}. Every element of C is one k-ordered sum inside one thread (deterministic).
 *
 * <p>The U-Net uses NT for {@code y = x W^T} (linear layers, time MLP, attention projections), NN for
 * {@code dx = dy W} and TN for {@code dW += dy^T x}.
 */
public final class Gemm {
    private Gemm() {}

    /** {@code C = alpha * op(A) op(B) + beta * C}. */
    public static void gemm(Tensor c, Tensor a, Tensor b, boolean transA, boolean transB, float alpha, float beta) {
        gemm(c, a, b, null, transA, transB, alpha, beta);
    }

    /** {@code C = alpha * op(A) op(B) + beta * C + bias} with {@code bias} (N) added to every row, or null. */
    static void gemm(Tensor c, Tensor a, Tensor b, Tensor bias, boolean transA, boolean transB, float alpha, float beta) {
        int[] mnk = dims(c, a, b, bias, transA, transB);
        switch (Checks.sameDevice("gemm", c, a, b, bias)) {
            case JavaDevice j -> GemmJava.fast(j, c, a, b, bias, transA, transB, alpha, beta, mnk[0], mnk[1], mnk[2]);
            case ClDevice cl -> GemmCl.gemm(cl, c, a, b, bias, transA, transB, alpha, beta, mnk[0], mnk[1], mnk[2]);
        }
    }

    /**
     * The plain triple loop that defines {@link #gemm} (Java device only): the specification the fast Java path
     * and the OpenCL kernel are tested against, and the baseline of {@code LinearBench.reference}.
     */
    public static void reference(Tensor c, Tensor a, Tensor b, boolean transA, boolean transB, float alpha, float beta) {
        int[] mnk = dims(c, a, b, null, transA, transB);
        if (!(Checks.sameDevice("gemm reference", c, a, b) instanceof JavaDevice))
            throw new IllegalArgumentException("Gemm.reference runs on the Java device only, got " + c.device().id()
                    + "; use Gemm.gemm for OpenCL tensors");
        GemmJava.reference(c, a, b, null, transA, transB, alpha, beta, mnk[0], mnk[1], mnk[2]);
    }

    /** FLOPs of one {@code M x N x K} GEMM: {@code 2 M N K} (a multiply and an add per term). */
    public static double flops(int m, int n, int k) {
        return 2.0 * m * n * k;
    }

    /** Returns {M, N, K} after checking ranks, the shared K, C's shape and the bias length. */
    static int[] dims(Tensor c, Tensor a, Tensor b, Tensor bias, boolean transA, boolean transB) {
        Checks.rank("gemm", "A", a, 2);
        Checks.rank("gemm", "B", b, 2);
        int m = transA ? a.dim(1) : a.dim(0), k = transA ? a.dim(0) : a.dim(1);
        int kb = transB ? b.dim(1) : b.dim(0), n = transB ? b.dim(0) : b.dim(1);
        if (k != kb)
            throw new IllegalArgumentException("gemm: inner dimensions differ: op(A) is " + m + " x " + k + " (A " + a
                    + (transA ? ", transposed" : "") + ") but op(B) is " + kb + " x " + n + " (B " + b
                    + (transB ? ", transposed" : "") + "); op(A) columns must equal op(B) rows");
        Checks.shape("gemm", "C", c, m, n);
        if (bias != null) Checks.shape("gemm", "bias", bias, n);
        Checks.positive("gemm", "M", m);
        Checks.positive("gemm", "N", n);
        Checks.positive("gemm", "K", k);
        return new int[]{m, n, k};
    }
}
