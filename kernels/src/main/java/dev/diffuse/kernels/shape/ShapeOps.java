package dev.diffuse.kernels.shape;

import dev.diffuse.kernels.Checks;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * U-Net shape ops on NCHW tensors, each with its backward. All are memory bound; {@link #bytesConcat},
 * {@link #bytesUpsample}, {@link #bytesAddBroadcast} give the DRAM bytes one call moves.
 * <ul>
 *   <li>Channel concat (skip connections, torch.cat([a, b], dim=1)): forward out = [a; b] along C; so the backward
 *       is the split da = dout[:, :Ca], db = dout[:, Ca:] (both written).</li>
 *   <li>Nearest 2x upsample (B, C, H, W) -> (B, C, 2H, 2W): forward y[2h+i, 2w+j] = x[h, w]; each x feeds 4 outputs,
 *       so dx[h, w] = sum of the 4 children of dy (written, fixed order).</li>
 *   <li>Broadcast add of an embedding e (B, C) over H, W: forward y = x + e[:, :, None, None]; so dx = dy (no kernel:
 *       pass dy on, or give a distinct dx to get a copy) and de[b, c] = sum_hw dy[b, c, hw] (written, fixed-order
 *       tree: deterministic). Residual adds of equal shapes are {@code Elementwise.add}.</li>
 * </ul>
 */
public final class ShapeOps {
    private ShapeOps() {}

    /** out (B, Ca+Cb, H, W) = cat([a (B, Ca, H, W), b (B, Cb, H, W)], dim=1). */
    public static void concatChannels(Tensor out, Tensor a, Tensor b) {
        checkConcat("concatChannels", out, a, b);
        switch (Checks.sameDevice("concatChannels", out, a, b)) {
            case JavaDevice j -> ShapeOpsJava.concat(j, out, a, b);
            case ClDevice c -> ShapeOpsCl.concat(c, out, a, b);
        }
    }

    /** Backward of {@link #concatChannels}: forward out = [a; b] along C; so da = dout[:, :Ca], db = dout[:, Ca:] (written). */
    public static void splitChannels(Tensor da, Tensor db, Tensor dout) {
        checkConcat("splitChannels", dout, da, db);
        switch (Checks.sameDevice("splitChannels", da, db, dout)) {
            case JavaDevice j -> ShapeOpsJava.split(j, da, db, dout);
            case ClDevice c -> ShapeOpsCl.split(c, da, db, dout);
        }
    }

    /** y (B, C, 2H, 2W) = nearest 2x upsample of x (B, C, H, W). */
    public static void upsampleNearest2x(Tensor y, Tensor x) {
        checkUpsample("upsampleNearest2x", y, x);
        switch (Checks.sameDevice("upsampleNearest2x", y, x)) {
            case JavaDevice j -> ShapeOpsJava.upsample(j, y, x);
            case ClDevice c -> ShapeOpsCl.upsample(c, y, x);
        }
    }

    /** Backward of {@link #upsampleNearest2x}: forward y[2h+i, 2w+j] = x[h, w]; so dx[h, w] = sum_{i,j} dy[2h+i, 2w+j] (written). */
    public static void upsampleNearest2xBackward(Tensor dx, Tensor dy) {
        checkUpsample("upsampleNearest2xBackward", dy, dx);
        switch (Checks.sameDevice("upsampleNearest2xBackward", dx, dy)) {
            case JavaDevice j -> ShapeOpsJava.upsampleBackward(j, dx, dy);
            case ClDevice c -> ShapeOpsCl.upsampleBackward(c, dx, dy);
        }
    }

    /** y = x + e[:, :, None, None]; x, y (B, C, H, W), e (B, C). y may alias x. */
    public static void addBroadcast(Tensor y, Tensor x, Tensor e) {
        Checks.rank("addBroadcast", "x", x, 4);
        Checks.shape("addBroadcast", "y", y, x.shape());
        Checks.shape("addBroadcast", "e", e, x.dim(0), x.dim(1));
        Checks.intNumel("addBroadcast", x);
        switch (Checks.sameDevice("addBroadcast", y, x, e)) {
            case JavaDevice j -> ShapeOpsJava.addBroadcast(j, y, x, e);
            case ClDevice c -> ShapeOpsCl.addBroadcast(c, y, x, e);
        }
    }

    /**
     * Backward of {@link #addBroadcast}: forward y = x + e[:, :, None, None]; so dx = dy and de[b, c] = sum_hw dy
     * (written, deterministic). {@code dx} may be null or dy itself (aliasing: nothing to do); a distinct dx gets a
     * device-side copy of dy.
     */
    public static void addBroadcastBackward(Tensor dx, Tensor de, Tensor dy) {
        Checks.rank("addBroadcastBackward", "dy", dy, 4);
        Checks.shape("addBroadcastBackward", "de", de, dy.dim(0), dy.dim(1));
        Checks.intNumel("addBroadcastBackward", dy);
        if (dx != null) Checks.shape("addBroadcastBackward", "dx", dx, dy.shape());
        switch (Checks.sameDevice("addBroadcastBackward", de, dy, dx)) {
            case JavaDevice j -> ShapeOpsJava.addBroadcastBackward(j, de, dy);
            case ClDevice c -> ShapeOpsCl.addBroadcastBackward(c, de, dy);
        }
        boolean alias = dx == null || (dx.storage() == dy.storage() && dx.offset() == dy.offset());
        if (!alias) dx.copyFrom(dy);
    }

    /** Bytes one concat or split moves: every element of out read or written once on each side (8 * numel(out)). */
    public static long bytesConcat(int batch, int ca, int cb, int h, int w) {
        return 8L * batch * (ca + cb) * h * w;
    }

    /** Bytes one upsample forward or backward moves for input (B, C, H, W): 4 per input + 16 per input's 4 children. */
    public static long bytesUpsample(int batch, int c, int h, int w) {
        return 20L * batch * c * h * w;
    }

    /**
     * Bytes one broadcast add moves: forward reads x, writes y, reads e (8n + 4BC); backward (dx aliasing dy) reads
     * dy, writes de (4n + 4BC).
     */
    public static long bytesAddBroadcast(int batch, int c, int h, int w, boolean backward) {
        long n = (long) batch * c * h * w;
        return (backward ? 4L : 8L) * n + 4L * batch * c;
    }

    private static void checkConcat(String op, Tensor out, Tensor a, Tensor b) {
        Checks.rank(op, "a", a, 4);
        Checks.rank(op, "b", b, 4);
        if (a.dim(0) != b.dim(0) || a.dim(2) != b.dim(2) || a.dim(3) != b.dim(3))
            throw new IllegalArgumentException(op + ": a " + a + " and b " + b + " must agree in batch, H and W (only channels may differ)");
        Checks.shape(op, "out", out, a.dim(0), a.dim(1) + b.dim(1), a.dim(2), a.dim(3));
        Checks.intNumel(op, out);
    }

    private static void checkUpsample(String op, Tensor y, Tensor x) {
        Checks.rank(op, "x", x, 4);
        Checks.shape(op, "y (the 2x upsampled tensor)", y, x.dim(0), x.dim(1), 2 * x.dim(2), 2 * x.dim(3));
        Checks.intNumel(op, y);
    }
}
