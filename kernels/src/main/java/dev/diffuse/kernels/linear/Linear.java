package dev.diffuse.kernels.linear;

import dev.diffuse.kernels.Checks;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Fully connected layer in PyTorch layout: x (..., K) viewed as M x K rows, weight W (N, K), bias b (N), y (..., N).
 *
 * <p>forward: {@code y[m][n] = sum_k x[m][k] W[n][k] + b[n]}, i.e. {@code y = x W^T + b} (GEMM NT).
 * <p>backward, from {@code dL/dy = dy}: since {@code dy[m][n]/dx[m][k] = W[n][k]},
 * {@code dx = dy W} (GEMM NN, written); since {@code dy[m][n]/dW[n][k] = x[m][k]}, {@code dW += dy^T x}
 * (GEMM TN, accumulated); since {@code dy[m][n]/db[n] = 1}, {@code db[n] += sum_m dy[m][n]} (accumulated,
 * fixed-order column sum: deterministic).
 * <p>FLOPs: forward {@code 2MNK}, backward {@code 4MNK + MN}.
 */
public final class Linear {
    private Linear() {}

    /** {@code y = x W^T + b}; {@code b} may be null (no bias). */
    public static void forward(Tensor y, Tensor x, Tensor w, Tensor b) {
        Checks.rank("linear forward", "W", w, 2);
        int n = w.dim(0), k = w.dim(1);
        int m = rows("linear forward", "x", x, k);
        int my = rows("linear forward", "y", y, n);
        if (my != m) throw new IllegalArgumentException("linear forward: y " + y + " must have " + m + " rows of " + n + " like x " + x);
        Gemm.gemm(y.reshape(m, n), x.reshape(m, k), w, b, false, true, 1f, 0f);
    }

    /**
     * {@code dx = dy W} (written; skipped when {@code dx} is null), {@code dW += dy^T x}, {@code db += sum_rows dy}
     * (skipped when {@code db} is null).
     */
    public static void backward(Tensor dx, Tensor dW, Tensor db, Tensor dy, Tensor x, Tensor w) {
        Checks.rank("linear backward", "W", w, 2);
        int n = w.dim(0), k = w.dim(1);
        int m = rows("linear backward", "x", x, k);
        if (rows("linear backward", "dy", dy, n) != m)
            throw new IllegalArgumentException("linear backward: dy " + dy + " must have " + m + " rows of " + n + " like x " + x);
        Checks.shape("linear backward", "dW", dW, n, k);
        Tensor dy2 = dy.reshape(m, n), x2 = x.reshape(m, k);
        if (dx != null) {
            Checks.sameNumel("linear backward", x, dx);
            Gemm.gemm(dx.reshape(m, k), dy2, w, null, false, false, 1f, 0f);
        }
        Gemm.gemm(dW, dy2, x2, null, true, false, 1f, 1f);
        if (db != null) biasGrad(db, dy2);
    }

    /** {@code db[n] += sum_m dy[m][n]} over a (M, N) gradient, in increasing m per column. */
    public static void biasGrad(Tensor db, Tensor dy) {
        Checks.rank("bias grad", "dy", dy, 2);
        Checks.shape("bias grad", "db", db, dy.dim(1));
        switch (Checks.sameDevice("bias grad", db, dy)) {
            case JavaDevice j -> GemmJava.colSum(j, db, dy, dy.dim(0), dy.dim(1));
            case ClDevice c -> GemmCl.colSum(c, db, dy, dy.dim(0), dy.dim(1));
        }
    }

    /** Rows of {@code t} seen as (rows, cols): its last dimension must be {@code cols}. */
    private static int rows(String op, String name, Tensor t, int cols) {
        if (t.rank() < 1 || t.dim(-1) != cols)
            throw new IllegalArgumentException(op + ": " + name + " " + t + " must end in dimension " + cols
                    + " (the weight's in/out features)");
        return Checks.intNumel(op, t) / cols;
    }
}
