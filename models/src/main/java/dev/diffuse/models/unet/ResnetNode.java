package dev.diffuse.models.unet;

import dev.diffuse.kernels.conv2d.Conv2dSpec;
import dev.diffuse.kernels.elementwise.Elementwise;
import dev.diffuse.kernels.groupnorm.GroupNorm;
import dev.diffuse.kernels.linear.Gemm;
import dev.diffuse.kernels.linear.Linear;
import dev.diffuse.kernels.shape.ShapeOps;
import dev.diffuse.models.unet.Graph.Act;
import dev.diffuse.models.unet.Graph.Param;
import dev.diffuse.models.unet.Node.Conv;
import dev.diffuse.models.unet.Node.Norm;
import dev.diffuse.runtime.Tensor;

/**
 * diffusers ResnetBlock2D with resnet_time_scale_shift "default" (spec §3.5), SiLU, dropout as identity:
 * <pre>
 *   a1 = silu(norm1(x));  h1 = conv1(a1) + time_emb_proj(silu(emb))[:, :, None, None]
 *   a2 = silu(norm2(h1)); h2 = conv2(a2)
 *   y  = (shortcut(x) + h2) / s          shortcut = 1x1 conv_shortcut iff Cin != Cout, else identity
 * </pre>
 * Backward, with g = dy / s: dh2 = g; da2 = conv2^T(g); dh1 = GN-SiLU backward(da2); d tp = sum_hw dh1;
 * d semb += d tp W_t (accumulated over all resnets: every block sees the same silu(emb)); da1 = conv1^T(dh1);
 * dx = GN-SiLU backward(da1) + (conv_shortcut^T(g) or g). silu(emb) is computed once per forward by the model.
 * Without a time embedding (the VAE's resnets, temb_channels = None) there is no time_emb_proj and h1 = conv1(a1).
 */
public final class ResnetNode implements Node {
    final Act in, out, a1, h1, a2, m1, r1, m2, r2, tp, semb;
    final Norm norm1, norm2;
    final Conv conv1, conv2, shortcut;
    final Param tw, tb;
    final float scale;
    final Graph.Scratch sc;

    /**
     * @param semb silu(emb) (B, T), whose gradient buffer collects d silu(emb) from every resnet; null for a resnet
     *             without time conditioning
     */
    public ResnetNode(Graph g, String p, Act in, int cout, float outputScale, Act semb) {
        this.in = in;
        this.semb = semb;
        this.sc = g.scratch;
        this.scale = outputScale;
        int cin = in.shape[0], h = in.shape[1], w = in.shape[2], groups = g.normGroups;
        norm1 = Norm.of(g, p + ".norm1", cin, groups);
        conv1 = Conv.of(g, p + ".conv1", cin, cout, Conv2dSpec.same3x3());
        tw = semb == null ? null : g.param(p + ".time_emb_proj.weight", cout, semb.shape[0]);
        tb = semb == null ? null : g.param(p + ".time_emb_proj.bias", cout);
        norm2 = Norm.of(g, p + ".norm2", cout, groups);
        conv2 = Conv.of(g, p + ".conv2", cout, cout, Conv2dSpec.same3x3());
        shortcut = cin != cout ? Conv.of(g, p + ".conv_shortcut", cin, cout, Conv2dSpec.pointwise()) : null;
        a1 = g.stat(cin, h, w);
        h1 = g.stat(cout, h, w);
        a2 = g.stat(cout, h, w);
        tp = g.stat(cout);
        m1 = g.stat(groups);
        r1 = g.stat(groups);
        m2 = g.stat(groups);
        r2 = g.stat(groups);
        out = g.act(cout, h, w);
        int[] co = {cout, h, w}, ci = {cin, h, w};
        // g (if s != 1), da2, dh1, d tp, GroupNorm scratch, da1, shortcut dx
        g.needBackward(co, co, co, new int[]{cout}, new int[]{2, Math.max(cin, cout)}, ci, ci);
    }

    @Override public Act[] ins() { return new Act[]{in}; }

    @Override public Act out() { return out; }

    /**
     * Two fused convolutions ({@link dev.diffuse.kernels.conv2d.Conv2d#forwardFused}): conv1 adds the projected time
     * embedding in its output pass, conv2 adds the shortcut (or x) and divides by the output scale in its own. The
     * sums are the unfused ones, in the same order.
     */
    @Override
    public void forward(int b) {
        Tensor x = in.v(b), y = out.v(b), h1b = h1.v(b);
        GroupNorm.forwardSilu(a1.v(b), m1.v(b), r1.v(b), x, norm1.gamma().w, norm1.beta().w, norm1.groups(), norm1.eps());
        if (semb != null) Linear.forward(tp.v(b), semb.v(b), tw.w, tb.w);
        conv1.forwardFused(h1b, a1.v(b), semb != null ? tp.v(b) : null, null, 1f);   // h1 = conv1(a1) (+ tp)
        GroupNorm.forwardSilu(a2.v(b), m2.v(b), r2.v(b), h1b, norm2.gamma().w, norm2.beta().w, norm2.groups(), norm2.eps());
        float inv = scale != 1f ? 1f / scale : 1f;
        if (shortcut != null) {
            shortcut.forward(y, x);
            conv2.forwardFused(y, a2.v(b), null, y, inv);                       // y = (conv2(a2) + shortcut(x)) / s
        } else {
            conv2.forwardFused(y, a2.v(b), null, x, inv);                       // y = (conv2(a2) + x) / s
        }
    }

    @Override
    public void backward(int b, Tensor[] d) {
        long mark = sc.mark();
        Tensor x = in.v(b), dy = out.g(b);
        Tensor g = dy;
        if (scale != 1f) {
            g = sc.take(dy.shape());
            Elementwise.scale(g, dy, 1f / scale);
        }
        Tensor da2 = sc.take(dy.shape());
        conv2.backward(da2, g, a2.v(b));
        Tensor dh1 = sc.take(dy.shape());
        Tensor gnScratch = sc.take(GroupNorm.scratchShape(b, Math.max(x.dim(1), dy.dim(1))));
        GroupNorm.backwardSilu(dh1, norm2.gamma().g, norm2.beta().g, da2, h1.v(b), norm2.gamma().w, norm2.beta().w,
                m2.v(b), r2.v(b), gnView(gnScratch, b, dy.dim(1)), norm2.groups());
        if (semb != null) {
            Tensor dtp = sc.take(b, dy.dim(1));
            ShapeOps.addBroadcastBackward(null, dtp, dh1);
            Linear.backward(null, tw.g, tb.g, dtp, semb.v(b), tw.w);
            Gemm.gemm(semb.g(b), dtp, tw.w, false, false, 1f, 1f);  // d semb += d tp W_t
        }
        Tensor da1 = sc.take(x.shape());
        conv1.backward(da1, dh1, a1.v(b));
        Tensor dx = d[0] != null ? d[0] : sc.take(x.shape());
        GroupNorm.backwardSilu(dx, norm1.gamma().g, norm1.beta().g, da1, x, norm1.gamma().w, norm1.beta().w,
                m1.v(b), r1.v(b), gnView(gnScratch, b, x.dim(1)), norm1.groups());
        if (shortcut != null) {
            Tensor dsc = sc.take(x.shape());
            shortcut.backward(dsc, g, x);
            Elementwise.add(dx, dx, dsc);
        } else {
            Elementwise.add(dx, dx, g);
        }
        sc.release(mark);
    }

    /** The (2, b, c) prefix of a (2, b, cmax) scratch tensor (contiguous, offset 0). */
    static Tensor gnView(Tensor scratch, int b, int c) {
        return scratch.view(0, GroupNorm.scratchShape(b, c));
    }
}
