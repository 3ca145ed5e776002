package dev.diffuse.kernels.conv2d;

import dev.diffuse.kernels.Checks;
import dev.diffuse.kernels.cpu.ConvEpilogue;
import dev.diffuse.kernels.elementwise.Elementwise;
import dev.diffuse.kernels.shape.ShapeOps;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * 2-D convolution as in PyTorch ({@code F.conv2d}: cross-correlation, no kernel flip), NCHW, weight
 * {@code w (Cout, Cin, K, K)}, bias {@code b (Cout)}, geometry from a {@link Conv2dSpec}.
 *
 * <p>Forward: {@code y[n,co,oh,ow] = b[co] + sum_{ci,kh,kw} w[co,ci,kh,kw] * x[n,ci, oh*s+kh-pt, ow*s+kw-pl]} with
 * {@code x = 0} outside the input (s = stride, pt/pl = top/left padding; bottom/right padding only sets OH, OW).
 *
 * <p>Backward, with {@code L} a scalar and {@code dy = dL/dy}. Each y element is linear in x, w and b, so:
 * <ul>
 *   <li>{@code db[co] = sum_{n,oh,ow} dy[n,co,oh,ow]} (dy/db[co] = 1 for every output of channel co);</li>
 *   <li>{@code dw[co,ci,kh,kw] = sum_{n,oh,ow} dy[n,co,oh,ow] * x[n,ci, oh*s+kh-pt, ow*s+kw-pl]} (the coefficient
 *       of w in the forward sum);</li>
 *   <li>{@code dx[n,ci,ih,iw] = sum_{co,kh,kw} w[co,ci,kh,kw] * dy[n,co,oh,ow]} over the (kh, oh) with
 *       {@code oh*s + kh - pt = ih}, {@code 0 <= oh < OH} (same for columns): each x element collects every
 *       weight it was multiplied with, i.e. {@code dx = conv_transpose2d(dy, w)} with the same stride and padding.</li>
 * </ul>
 * As everywhere in Diffuse, {@link #backward} WRITES dx and ACCUMULATES ({@code +=}) into dw and db.
 *
 * <p>Java device: a blocked, multi-threaded, Vector-API fast path ({@link Conv2dJava#forwardReference} and
 * {@link Conv2dJava#backwardReference} are the plain-loop spec). OpenCL: tiled implicit GEMMs, see conv2d.cl.
 */
public final class Conv2d {
    private Conv2d() {}

    /** Sizes of one call: input (B, Cin, H, W), output (B, Cout, OH, OW), kernel K x K. */
    record Dims(int B, int Cin, int H, int W, int Cout, int OH, int OW, int K) {
        int kk() { return K * K; }
        int p() { return OH * OW; }
        int hw() { return H * W; }
    }

    /** y = conv(x, w) + b. Shapes: y (B, Cout, OH, OW), x (B, Cin, H, W), w (Cout, Cin, K, K), b (Cout). */
    public static void forward(Tensor y, Tensor x, Tensor w, Tensor b, Conv2dSpec spec) {
        Dims d = dims("conv2d forward", x, w, spec);
        Checks.shape("conv2d forward", "y", y, d.B, d.Cout, d.OH, d.OW);
        Checks.shape("conv2d forward", "b", b, d.Cout);
        ints("conv2d forward", y, x, w);
        switch (Checks.sameDevice("conv2d forward", y, x, w, b)) {
            case JavaDevice j -> Conv2dJavaFast.forward(j, y, x, w, b, d, spec);
            case ClDevice c -> Conv2dCl.forward(c, y, x, w, b, d, spec);
        }
    }

    /**
     * Fused forward, "convolution + broadcast add + residual add + scale" (4 passes over y -> 1):
     * {@code y[n,co,oh,ow] = ((conv(x, w)[n,co,oh,ow] + b[co] + channelAdd[n,co]) + residual[n,co,oh,ow]) * scale}, added
     * in this order. {@code channelAdd} (B, Cout), e.g. a resnet's projected time embedding, and {@code residual} (the
     * shape of y; it may be y itself, for an in-place {@code y = (conv(x) + y) * scale}) may be null. Its backward is
     * that of the composition: with {@code g = scale * dy}, dresidual = g, dchannelAdd = sum over pixels of g, and
     * {@link #backward} with dy = g. The Java device runs it in the convolution's output pass; OpenCL composes the
     * existing kernels.
     */
    public static void forwardFused(Tensor y, Tensor x, Tensor w, Tensor b, Tensor channelAdd, Tensor residual, float scale,
                                    Conv2dSpec spec) {
        String op = "conv2d forwardFused";
        Dims d = dims(op, x, w, spec);
        Checks.shape(op, "y", y, d.B, d.Cout, d.OH, d.OW);
        Checks.shape(op, "b", b, d.Cout);
        if (channelAdd != null) Checks.shape(op, "channelAdd (B, Cout)", channelAdd, d.B, d.Cout);
        if (residual != null) {
            Checks.shape(op, "residual", residual, d.B, d.Cout, d.OH, d.OW);
            if (residual.storage() == y.storage() && residual.offset() != y.offset()
                    && residual.offset() < y.offset() + y.numel() && y.offset() < residual.offset() + residual.numel())
                throw new IllegalArgumentException(op + ": residual " + residual + " partly overlaps y " + y
                        + "; pass y itself (in-place) or a separate tensor");
        }
        ints(op, y, x, w);
        switch (Checks.sameDevice(op, y, x, w, b, channelAdd, residual)) {
            case JavaDevice j -> Conv2dJavaFast.forward(j, y, x, w, new ConvEpilogue(b.segment(), 0,
                    channelAdd == null ? null : channelAdd.segment(), 0, residual == null ? null : residual.segment(), 0,
                    scale), d, spec);
            case ClDevice c -> forwardFusedComposed(c, y, x, w, b, channelAdd, residual, scale, d, spec);
        }
    }

    /**
     * OpenCL: {@link #forwardFused} composed of existing kernels: the convolution (into a temporary when the residual is
     * y itself), then the broadcast add, the residual add and the scale, in the fused op's order.
     */
    private static void forwardFusedComposed(ClDevice c, Tensor y, Tensor x, Tensor w, Tensor b, Tensor channelAdd,
                                             Tensor residual, float scale, Dims d, Conv2dSpec spec) {
        boolean inPlace = residual != null && residual.storage() == y.storage() && residual.offset() == y.offset();
        Tensor conv = inPlace ? Tensor.allocate(c, y.shape()) : y;   // freed after the queued kernels ran
        try {
            Conv2dCl.forward(c, conv, x, w, b, d, spec);
            if (channelAdd != null) ShapeOps.addBroadcast(conv, conv, channelAdd);
            if (residual != null) Elementwise.add(y, conv, residual);
            if (scale != 1f) Elementwise.scale(y, y, scale);
        } finally {
            if (inPlace) conv.close();
        }
    }

    /**
     * Backward of {@link #forward}: dx = conv_transpose(dy, w) (written; pass null to skip, e.g. for the first layer),
     * dw += sum dy * x (im2col product), db += sum_{n,oh,ow} dy (pass null to skip). Shapes as in forward.
     */
    public static void backward(Tensor dx, Tensor dw, Tensor db, Tensor dy, Tensor x, Tensor w, Conv2dSpec spec) {
        String op = "conv2d backward";
        Dims d = dims(op, x, w, spec);
        Checks.shape(op, "dy", dy, d.B, d.Cout, d.OH, d.OW);
        Checks.shape(op, "dw", dw, d.Cout, d.Cin, d.K, d.K);
        if (dx != null) Checks.shape(op, "dx", dx, d.B, d.Cin, d.H, d.W);
        if (db != null) Checks.shape(op, "db", db, d.Cout);
        ints(op, dy, x, w);
        switch (Checks.sameDevice(op, dw, dx, db, dy, x, w)) {
            case JavaDevice j -> Conv2dJavaFast.backward(j, dx, dw, db, dy, x, w, d, spec);
            case ClDevice c -> Conv2dCl.backward(c, dx, dw, db, dy, x, w, d, spec);
        }
    }

    /** FLOPs of one forward (multiply + add): 2 B Cout OH OW Cin K K. A backward (dx + dw) is twice that. */
    public static double flops(int batch, int cin, int h, int w, int cout, Conv2dSpec spec) {
        return 2.0 * batch * cout * spec.outH(h) * spec.outW(w) * cin * spec.kernel() * spec.kernel();
    }

    static Dims dims(String op, Tensor x, Tensor w, Conv2dSpec spec) {
        if (spec == null) throw new IllegalArgumentException(op + ": spec is null; use e.g. Conv2dSpec.same3x3()");
        Checks.rank(op, "x (B, Cin, H, W)", x, 4);
        Checks.rank(op, "w (Cout, Cin, K, K)", w, 4);
        int k = spec.kernel();
        if (w.dim(1) != x.dim(1))
            throw new IllegalArgumentException(op + ": w " + w + " expects Cin = " + w.dim(1) + " input channels but x " + x
                    + " has " + x.dim(1));
        if (w.dim(2) != k || w.dim(3) != k)
            throw new IllegalArgumentException(op + ": w " + w + " must be " + k + "x" + k + " as the spec " + spec + " says");
        for (int i = 0; i < 4; i++) Checks.positive(op, "dimension " + i + " of x", x.dim(i));
        Checks.positive(op, "Cout (dimension 0 of w)", w.dim(0));
        return new Dims(x.dim(0), x.dim(1), x.dim(2), x.dim(3), w.dim(0), spec.outH(x.dim(2)), spec.outW(x.dim(3)), k);
    }

    private static void ints(String op, Tensor... ts) {
        for (Tensor t : ts) Checks.intNumel(op, t);
    }
}
