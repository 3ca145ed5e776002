package dev.diffuse.kernels.lookup;

import dev.diffuse.kernels.Checks;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Embedding-table lookup added into an existing tensor: the U-Net class embedding
 * ({@code emb += class_embedding.weight[label]}, spec §3.3).
 *
 * <p>forward: {@code out[b, j] += table[label_b, j]}; out depends on table row label_b linearly with
 * coefficient 1, so backward: {@code dtable[c, j] += sum_{b : label_b = c} dout[b, j]} (accumulated, b ascending:
 * deterministic, no atomics) and {@code dout} passes through unchanged to whatever produced out (nothing to do here).
 * Labels are data (no gradient). Shapes: out, dout (B, D); table, dtable (K, D); labels (B) floats holding integer
 * class ids 0..K-1 (truncated toward zero). A label outside 0..K-1 contributes nothing on either device; validate
 * labels on the host before uploading them.
 */
public final class Lookup {
    private Lookup() {}

    /** out[b, :] += table[labels[b], :]. */
    public static void addRows(Tensor out, Tensor table, Tensor labels) {
        int[] s = check("lookup addRows", out, table, labels);
        switch (Checks.sameDevice("lookup addRows", out, table, labels)) {
            case JavaDevice j -> LookupJava.addRows(j, out, table, labels, s[0], s[1], s[2]);
            case ClDevice c -> c.kernel(LookupJava.SRC, "lookup_add_rows")
                    .launch1d((long) s[0] * s[1], 256, out, table, labels, s[0], s[1], s[2]);
        }
    }

    /** Backward of {@link #addRows}: dtable[c, :] += sum over b with labels[b] == c of dout[b, :] (b ascending). */
    public static void addRowsBackward(Tensor dtable, Tensor dout, Tensor labels) {
        int[] s = check("lookup addRowsBackward", dout, dtable, labels);
        switch (Checks.sameDevice("lookup addRowsBackward", dtable, dout, labels)) {
            case JavaDevice j -> LookupJava.addRowsBackward(j, dtable, dout, labels, s[0], s[1], s[2]);
            case ClDevice c -> c.kernel(LookupJava.SRC, "lookup_add_rows_back")
                    .launch1d((long) s[2] * s[1], 256, dtable, dout, labels, s[0], s[1], s[2]);
        }
    }

    /** Bytes one forward moves: read+write out, read B rows of the table and B labels. */
    public static long bytesMoved(int batch, int dim) {
        return 12L * batch * dim + 4L * batch;
    }

    private static int[] check(String op, Tensor out, Tensor table, Tensor labels) {
        Checks.rank(op, "out (B, D)", out, 2);
        Checks.rank(op, "table (K, D)", table, 2);
        int b = out.dim(0), d = out.dim(1), k = table.dim(0);
        if (table.dim(1) != d)
            throw new IllegalArgumentException(op + ": table " + table + " rows must have D = " + d + " values like out " + out);
        Checks.shape(op, "labels", labels, b);
        Checks.intNumel(op, out);
        Checks.intNumel(op, table);
        return new int[]{b, d, k};
    }
}
