package dev.diffuse.kernels.conv2d;

import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * The plain-loop reference of {@link Conv2d}: one loop per index of the formulas in its Javadoc, single-threaded,
 * accumulating in float in the order written. This is the spec the fast path ({@link Conv2dJavaFast}) and the OpenCL
 * kernels are tested against; it is public so that tests and benchmarks can call it directly.
 */
public final class Conv2dJava {
    private Conv2dJava() {}

    /** Reference forward on Java-device tensors: same arguments and checks as {@link Conv2d#forward}. */
    public static void forwardReference(Tensor y, Tensor x, Tensor w, Tensor b, Conv2dSpec spec) {
        Conv2d.Dims d = Conv2d.dims("conv2d forwardReference", x, w, spec);
        javaOnly(y, x, w, b);
        y.upload(forward(x.toArray(), w.toArray(), b.toArray(), d, spec));
    }

    /**
     * Reference of {@link Conv2d#forwardFused}: the composition written out, {@link #forwardReference} and then
     * {@code y = ((y + channelAdd[n, co]) + residual) * scale} element by element (residual may be y itself).
     */
    public static void forwardFusedReference(Tensor y, Tensor x, Tensor w, Tensor b, Tensor channelAdd, Tensor residual,
                                             float scale, Conv2dSpec spec) {
        Conv2d.Dims d = Conv2d.dims("conv2d forwardFusedReference", x, w, spec);
        javaOnly(y, x, w, b, channelAdd, residual);
        float[] r = residual == null ? null : residual.toArray(), add = channelAdd == null ? null : channelAdd.toArray();
        float[] out = forward(x.toArray(), w.toArray(), b.toArray(), d, spec);
        int p = d.p();
        for (int i = 0; i < out.length; i++) {
            float v = out[i];
            if (add != null) v += add[i / p];                   // i / P = n * Cout + co
            if (r != null) v += r[i];
            if (scale != 1f) v *= scale;
            out[i] = v;
        }
        y.upload(out);
    }

    /** Reference backward: dx written (null to skip), dw and db accumulated (db null to skip). */
    public static void backwardReference(Tensor dx, Tensor dw, Tensor db, Tensor dy, Tensor x, Tensor w, Conv2dSpec spec) {
        Conv2d.Dims d = Conv2d.dims("conv2d backwardReference", x, w, spec);
        javaOnly(dw, dy, x, w);
        float[] gx = new float[d.B() * d.Cin() * d.hw()], gw = dw.toArray(), gb = new float[d.Cout()];
        backward(gx, gw, gb, dy.toArray(), x.toArray(), w.toArray(), d, spec);
        if (dx != null) dx.upload(gx);
        dw.upload(gw);
        if (db != null) {
            float[] old = db.toArray();
            for (int co = 0; co < old.length; co++) old[co] += gb[co];
            db.upload(old);
        }
    }

    /** y = conv(x, w) + b on arrays. */
    static float[] forward(float[] x, float[] w, float[] b, Conv2d.Dims d, Conv2dSpec s) {
        int K = d.K(), st = s.stride(), pt = s.padTop(), pl = s.padLeft();
        float[] y = new float[d.B() * d.Cout() * d.p()];
        for (int n = 0; n < d.B(); n++)
            for (int co = 0; co < d.Cout(); co++)
                for (int oh = 0; oh < d.OH(); oh++)
                    for (int ow = 0; ow < d.OW(); ow++) {
                        float sum = b[co];
                        for (int ci = 0; ci < d.Cin(); ci++)
                            for (int kh = 0; kh < K; kh++)
                                for (int kw = 0; kw < K; kw++) {
                                    int ih = oh * st + kh - pt, iw = ow * st + kw - pl;
                                    if (ih < 0 || ih >= d.H() || iw < 0 || iw >= d.W()) continue;
                                    sum += w[((co * d.Cin() + ci) * K + kh) * K + kw] * x[((n * d.Cin() + ci) * d.H() + ih) * d.W() + iw];
                                }
                        y[((n * d.Cout() + co) * d.OH() + oh) * d.OW() + ow] = sum;
                    }
        return y;
    }

    /**
     * Scatter form of the backward: every product w * x in the forward sum of y[n,co,oh,ow] sends dy * x to dw,
     * dy * w to dx and dy to db. dx must be zero on entry (it is overwritten by the caller); dw, db accumulate.
     */
    static void backward(float[] dx, float[] dw, float[] db, float[] dy, float[] x, float[] w, Conv2d.Dims d, Conv2dSpec s) {
        int K = d.K(), st = s.stride(), pt = s.padTop(), pl = s.padLeft();
        for (int n = 0; n < d.B(); n++)
            for (int co = 0; co < d.Cout(); co++)
                for (int oh = 0; oh < d.OH(); oh++)
                    for (int ow = 0; ow < d.OW(); ow++) {
                        float g = dy[((n * d.Cout() + co) * d.OH() + oh) * d.OW() + ow];
                        db[co] += g;
                        for (int ci = 0; ci < d.Cin(); ci++)
                            for (int kh = 0; kh < K; kh++)
                                for (int kw = 0; kw < K; kw++) {
                                    int ih = oh * st + kh - pt, iw = ow * st + kw - pl;
                                    if (ih < 0 || ih >= d.H() || iw < 0 || iw >= d.W()) continue;
                                    int wi = ((co * d.Cin() + ci) * K + kh) * K + kw;
                                    int xi = ((n * d.Cin() + ci) * d.H() + ih) * d.W() + iw;
                                    dw[wi] += g * x[xi];
                                    dx[xi] += g * w[wi];
                                }
                    }
    }

    private static void javaOnly(Tensor... ts) {
        for (Tensor t : ts)
            if (t != null && !(t.device() instanceof JavaDevice))
                throw new IllegalArgumentException("conv2d reference: " + t + " is not on the Java device; the reference runs on Java tensors only");
    }
}
