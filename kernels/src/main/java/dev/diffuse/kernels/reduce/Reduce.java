package dev.diffuse.kernels.reduce;

import dev.diffuse.kernels.Checks;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Deterministic full reductions into a 1-element tensor on the same device (no host read-back; use
 * {@link #toHost} when the value is wanted on the host). Repeated calls on the same device give the same bits:
 * the order of additions is fixed by the launch shape, never by timing, and no atomics are used.
 * <ul>
 *   <li>sum = sum_i x_i, mean = sum / n, sumSquares = sum_i x_i^2, max = max_i x_i</li>
 * </ul>
 * Accuracy: OpenCL accumulates in float over a fixed tree (error ~ sqrt(n / 65536) ulps of the magnitudes
 * summed, plus one rounding per tree level); the Java device accumulates each fixed chunk in double.
 */
public final class Reduce {
    /** Operation codes shared with reduce.cl. */
    public enum Op { SUM, SUM_SQUARES, MAX }

    private Reduce() {}

    public static void sum(Tensor out, Tensor x) { run(out, x, Op.SUM, 1f); }

    public static void mean(Tensor out, Tensor x) {
        if (x.numel() == 0) throw new IllegalArgumentException("mean of an empty tensor " + x);
        run(out, x, Op.SUM, (float) (1.0 / x.numel()));
    }

    public static void sumSquares(Tensor out, Tensor x) { run(out, x, Op.SUM_SQUARES, 1f); }

    public static void max(Tensor out, Tensor x) { run(out, x, Op.MAX, 1f); }

    /**
     * Row-wise dot products: out[r] = sum_j a[r, j] b[r, j] for a, b of shape (rows, ...) flattened per row; each row
     * is summed in index order (deterministic, float accumulation on OpenCL, double on the Java device).
     */
    public static void rowDot(Tensor out, Tensor a, Tensor b) {
        Checks.sameNumel("rowDot", a, b);
        int rows = a.dim(0);
        if (out.numel() != rows) throw new IllegalArgumentException("rowDot: out must hold one value per row (" + rows + "), got " + out);
        int d = Math.toIntExact(a.numel() / Math.max(1, rows));
        switch (Checks.sameDevice("rowDot", out, a, b)) {
            case JavaDevice j -> ReduceJava.rowDot(j, out, a, b, rows, d);
            case ClDevice c -> c.kernel(ReduceCl.SRC, "reduce_row_dot", java.util.Map.of("WG", ReduceCl.WG))
                    .launch1d(rows, 64, out, a, b, rows, d);
        }
    }

    /** Reads a 1-element result (blocking). */
    public static float toHost(Tensor out) { return out.get(0); }

    private static void run(Tensor out, Tensor x, Op op, float scale) {
        if (out.numel() != 1) throw new IllegalArgumentException("reduce " + op + ": out must have one element, got " + out);
        switch (Checks.sameDevice("reduce " + op, out, x)) {
            case JavaDevice j -> ReduceJava.reduce(j, out, x, op, scale);
            case ClDevice c -> ReduceCl.reduce(c, out, x, op, scale);
        }
    }
}
