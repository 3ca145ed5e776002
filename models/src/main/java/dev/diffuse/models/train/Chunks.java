package dev.diffuse.models.train;

import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;

/**
 * Runs a per-sample computation over a batch larger than a model's maxBatch, chunk by chunk. On OpenCL a view at an
 * arbitrary offset cannot be a kernel argument (sub-buffer origins must be aligned), so every chunk after the first
 * is copied device-side into aligned staging buffers (clEnqueueCopyBuffer takes any offset), computed there, and the
 * result copied back. A batch that fits runs in place with no copy.
 */
public final class Chunks implements AutoCloseable {
    /** The computation on one chunk: all tensors start at offset 0 (aligned) and hold {@code rows} samples. */
    public interface Body {
        void run(Tensor out, Tensor x, Tensor perRow1, Tensor perRow2, int rows);
    }

    private final Workspace ws;
    private final Tensor xs, outs, r1, r2;
    private final int maxRows;

    /**
     * @param maxRows rows per chunk (the model's maxBatch)
     * @param perIn   elements per input row
     * @param perOut  elements per output row
     */
    public Chunks(Device device, int maxRows, long perIn, long perOut) {
        this.maxRows = maxRows;
        this.ws = new Workspace(device, "chunk staging", 4L * maxRows * (perIn + perOut + 2) + (1 << 16));
        this.xs = ws.tensor(Math.toIntExact(maxRows * perIn));
        this.outs = ws.tensor(Math.toIntExact(maxRows * perOut));
        this.r1 = ws.tensor(maxRows);
        this.r2 = ws.tensor(maxRows);
    }

    /**
     * out[i] = body(x[i], perRow1[i], perRow2[i]) for every row, in chunks. {@code perRow1}/{@code perRow2} hold one
     * value per row (e.g. timesteps, labels) or are null; {@code shapeIn}/{@code shapeOut} give one row's shape.
     */
    public void run(Tensor out, Tensor x, Tensor perRow1, Tensor perRow2, int[] shapeIn, int[] shapeOut, Body body) {
        int n = x.dim(0);
        long perIn = Tensor.numel(shapeIn), perOut = Tensor.numel(shapeOut);
        if (n <= maxRows) {
            body.run(out.reshape(rows(n, shapeOut)), x.reshape(rows(n, shapeIn)), perRow1, perRow2, n);
            return;
        }
        for (int first = 0; first < n; first += maxRows) {
            int b = Math.min(maxRows, n - first);
            Tensor xin = xs.view(0, rows(b, shapeIn)), o = outs.view(0, rows(b, shapeOut));
            xin.copyFrom(x.view(first * perIn, rows(b, shapeIn)));
            Tensor a = null, c = null;
            if (perRow1 != null) (a = r1.view(0, b)).copyFrom(perRow1.view(first, b));
            if (perRow2 != null) (c = r2.view(0, b)).copyFrom(perRow2.view(first, b));
            body.run(o, xin, a, c, b);
            out.view(first * perOut, rows(b, shapeOut)).copyFrom(o);
        }
    }

    private static int[] rows(int n, int[] shape) {
        int[] s = new int[shape.length + 1];
        s[0] = n;
        System.arraycopy(shape, 0, s, 1, shape.length);
        return s;
    }

    @Override
    public void close() { ws.close(); }
}
