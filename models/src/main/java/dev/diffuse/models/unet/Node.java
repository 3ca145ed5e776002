package dev.diffuse.models.unet;

import dev.diffuse.kernels.conv2d.Conv2d;
import dev.diffuse.kernels.conv2d.Conv2dSpec;
import dev.diffuse.kernels.elementwise.Elementwise;
import dev.diffuse.kernels.groupnorm.GroupNorm;
import dev.diffuse.kernels.shape.ShapeOps;
import dev.diffuse.models.unet.Graph.Act;
import dev.diffuse.models.unet.Graph.Param;
import dev.diffuse.runtime.Tensor;

/**
 * One step of a fixed tape (the U-Net's, the VAE's): reads its input activations, writes its output activation. The backward
 * reads the output's gradient and WRITES the gradient of each input into the tensors it is given (the driver in
 * {@link UNet2DModel} routes them into the inputs' gradient buffers, summing where an activation has two consumers:
 * the skip connections), and ACCUMULATES parameter gradients.
 */
public interface Node {
    Act[] ins();

    Act out();

    void forward(int b);

    /** @param dIns one tensor per input, (b, ...) like the input; an entry is null when that gradient is not needed */
    void backward(int b, Tensor[] dIns);

    /**
     * FLOPs (multiply + add = 2) of one forward of {@code nodes} at {@code batch}: every convolution
     * (2 B Cout OH OW Cin K K), the time_emb_proj linears (2 B out in), the attention projections (4 x 2 B N C^2) and
     * cores (4 B heads N^2 d). Normalisations and elementwise ops are not counted (memory bound). A backward is about 2x.
     */
    static double flops(java.util.List<? extends Node> nodes, int batch) {
        double f = 0;
        for (Node n : nodes) {
            switch (n) {
                case ConvNode c -> f += c.conv.flops(c.in.shape, batch);
                case UpsampleNode u -> f += u.conv.flops(u.up.shape, batch);
                case HeadNode h -> f += h.conv.flops(h.in.shape, batch);
                case ResnetNode r -> {
                    f += r.conv1.flops(r.in.shape, batch) + r.conv2.flops(r.out.shape, batch);
                    if (r.tw != null) f += 2.0 * batch * r.tw.shape[0] * r.tw.shape[1];
                    if (r.shortcut != null) f += r.shortcut.flops(r.in.shape, batch);
                }
                case AttentionNode a -> {
                    double tokens = (double) a.in.shape[1] * a.in.shape[2];
                    f += 4 * 2.0 * batch * tokens * a.c * a.c + 4.0 * batch * a.heads * tokens * tokens * a.headDim;
                }
                default -> { }
            }
        }
        return f;
    }

    /** A convolution's parameters: weight (Cout, Cin, K, K) and bias (Cout) under {@code prefix.weight/.bias}. */
    record Conv(Param w, Param b, Conv2dSpec spec) {
        public static Conv of(Graph g, String prefix, int cin, int cout, Conv2dSpec spec) {
            int k = spec.kernel();
            return new Conv(g.param(prefix + ".weight", cout, cin, k, k), g.param(prefix + ".bias", cout), spec);
        }

        public void forward(Tensor y, Tensor x) { Conv2d.forward(y, x, w.w, b.w, spec); }

        /** y = ((conv(x) + channelAdd) + residual) * scale in one output pass; channelAdd, residual may be null. */
        public void forwardFused(Tensor y, Tensor x, Tensor channelAdd, Tensor residual, float scale) {
            Conv2d.forwardFused(y, x, w.w, b.w, channelAdd, residual, scale, spec);
        }

        public void backward(Tensor dx, Tensor dy, Tensor x) { Conv2d.backward(dx, w.g, b.g, dy, x, w.w, spec); }

        /** FLOPs of one forward on inputs of shape {@code in} (C, H, W). */
        double flops(int[] in, int batch) { return Conv2d.flops(batch, w.shape[1], in[1], in[2], w.shape[0], spec); }
    }

    /** A GroupNorm's affine parameters under {@code prefix.weight/.bias}; epsilon is the graph's. */
    record Norm(Param gamma, Param beta, int groups, float eps) {
        public static Norm of(Graph g, String prefix, int c, int groups) {
            return new Norm(g.param(prefix + ".weight", c), g.param(prefix + ".bias", c), groups, g.normEps);
        }
    }

    /** conv_in, downsamplers.0.conv, the VAE's quant_conv: y = conv(x). */
    final class ConvNode implements Node {
        final Act in, out;
        final Conv conv;

        public ConvNode(Graph g, String prefix, Act in, int cout, Conv2dSpec spec) {
            this.in = in;
            int[] s = in.shape;
            this.conv = Conv.of(g, prefix, s[0], cout, spec);
            this.out = g.act(cout, spec.outH(s[1]), spec.outW(s[2]));
        }

        public Act[] ins() { return new Act[]{in}; }

        public Act out() { return out; }

        public void forward(int b) { conv.forward(out.v(b), in.v(b)); }

        public void backward(int b, Tensor[] d) { conv.backward(d[0], out.g(b), in.v(b)); }
    }

    /** center_input_sample: y = 2x - 1 (computed as 2*x + (-1)*ones); so dx = 2 dy. */
    final class CenterNode implements Node {
        final Act in, out, ones;

        CenterNode(Graph g, Act in) {
            this.in = in;
            this.out = g.act(in.shape);
            this.ones = g.stat(in.shape);
        }

        public Act[] ins() { return new Act[]{in}; }

        public Act out() { return out; }

        public void forward(int b) {
            Elementwise.fill(ones.v(b), 1f);
            Elementwise.axpby(out.v(b), 2f, in.v(b), -1f, ones.v(b));
        }

        public void backward(int b, Tensor[] d) {
            if (d[0] != null) Elementwise.scale(d[0], out.g(b), 2f);
        }
    }

    /** Upsample2D: y = conv3x3(nearest2x(x)); so dx = sum over each 2x2 block of conv_transpose(dy). */
    final class UpsampleNode implements Node {
        final Act in, up, out;
        final Conv conv;
        final Graph.Scratch sc;

        public UpsampleNode(Graph g, String prefix, Act in) {
            this.in = in;
            this.sc = g.scratch;
            int c = in.shape[0], h = 2 * in.shape[1], w = 2 * in.shape[2];
            this.conv = Conv.of(g, prefix, c, c, Conv2dSpec.same3x3());
            this.up = g.stat(c, h, w);
            this.out = g.act(c, h, w);
            g.needBackward(new int[]{c, h, w});
        }

        public Act[] ins() { return new Act[]{in}; }

        public Act out() { return out; }

        public void forward(int b) {
            ShapeOps.upsampleNearest2x(up.v(b), in.v(b));
            conv.forward(out.v(b), up.v(b));
        }

        public void backward(int b, Tensor[] d) {
            Graph.Scratch s = sc;
            long m = s.mark();
            Tensor dup = s.take(Graph.withBatch(b, up.shape));
            conv.backward(dup, out.g(b), up.v(b));
            ShapeOps.upsampleNearest2xBackward(d[0], dup);
            s.release(m);
        }
    }

    /** torch.cat([h, skip], dim=1); so (dh, dskip) = split(dy). */
    final class ConcatNode implements Node {
        final Act a, c, out;

        ConcatNode(Graph g, Act a, Act c) {
            this.a = a;
            this.c = c;
            this.out = g.act(a.shape[0] + c.shape[0], a.shape[1], a.shape[2]);
        }

        public Act[] ins() { return new Act[]{a, c}; }

        public Act out() { return out; }

        public void forward(int b) { ShapeOps.concatChannels(out.v(b), a.v(b), c.v(b)); }

        public void backward(int b, Tensor[] d) { ShapeOps.splitChannels(d[0], d[1], out.g(b)); }
    }

    /** prefix + conv_norm_out -> SiLU -> prefix + conv_out, GroupNorm and SiLU fused (the graph's groups). */
    final class HeadNode implements Node {
        final Act in, act, out, mean, rstd;
        final Norm norm;
        final Conv conv;
        final Graph.Scratch sc;

        public HeadNode(Graph g, String prefix, Act in, int outChannels) {
            this.in = in;
            this.sc = g.scratch;
            int c = in.shape[0];
            this.norm = Norm.of(g, prefix + "conv_norm_out", c, g.normGroups);
            this.conv = Conv.of(g, prefix + "conv_out", c, outChannels, Conv2dSpec.same3x3());
            this.act = g.stat(in.shape);
            this.out = g.act(outChannels, in.shape[1], in.shape[2]);
            this.mean = g.stat(norm.groups());
            this.rstd = g.stat(norm.groups());
            g.needBackward(in.shape, new int[]{2, c});
        }

        public Act[] ins() { return new Act[]{in}; }

        public Act out() { return out; }

        public void forward(int b) {
            GroupNorm.forwardSilu(act.v(b), mean.v(b), rstd.v(b), in.v(b), norm.gamma().w,
                    norm.beta().w, norm.groups(), norm.eps());
            conv.forward(out.v(b), act.v(b));
        }

        public void backward(int b, Tensor[] d) {
            Graph.Scratch s = sc;
            long m = s.mark();
            Tensor da = s.take(Graph.withBatch(b, act.shape));
            conv.backward(da, out.g(b), act.v(b));
            GroupNorm.backwardSilu(d[0], norm.gamma().g, norm.beta().g, da, in.v(b), norm.gamma().w, norm.beta().w,
                    mean.v(b), rstd.v(b), s.take(GroupNorm.scratchShape(b, in.shape[0])), norm.groups());
            s.release(m);
        }
    }
}
