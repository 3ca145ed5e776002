package dev.diffuse.models.unet;

import dev.diffuse.kernels.attention.Attention;
import dev.diffuse.kernels.conv2d.Conv2d;
import dev.diffuse.kernels.conv2d.Conv2dSpec;
import dev.diffuse.kernels.elementwise.Elementwise;
import dev.diffuse.kernels.groupnorm.GroupNorm;
import dev.diffuse.models.unet.Graph.Act;
import dev.diffuse.models.unet.Node.Conv;
import dev.diffuse.models.unet.Node.Norm;
import dev.diffuse.runtime.Tensor;

/**
 * diffusers Attention with group_norm, residual connection and bias (spec §3.6), computed channel-first: the
 * projections Q = Wq xn + bq are 1x1 convolutions over the normalised input xn (B, C, H, W), which equals the
 * token-major {@code X Wq^T + bq} transposed, and attention itself runs on those channel-first tensors
 * ({@link Attention#forwardChannels}: head h is channels h*d..h*d+d-1), so no transposes are needed.
 * <pre>
 *   xn = GroupNorm(x);  Q, K, V = to_q/to_k/to_v(xn);  O = softmax(Q K^T / sqrt(d)) V per head
 *   y  = (to_out.0(O) + x) / r
 * </pre>
 * Backward, with g = dy / r: dO = to_out^T(g); (dQ, dK, dV) = attention VJP; dxn = to_q^T dQ + to_k^T dK + to_v^T dV;
 * dx = GroupNorm backward(dxn) + g. The parameters keep diffusers' (C, C) shapes; the convolutions see them as
 * (C, C, 1, 1) views.
 */
public final class AttentionNode implements Node {
    final Act in, out, xn, qc, kc, vc, oc, mean, rstd, lse;
    final Norm norm;
    final Conv q, k, v, proj;
    final int heads, headDim, c;
    final float rescale;
    final Graph.Scratch sc;

    /** @param heads attention heads over the {@code C} channels (C / attention_head_dim; 1 in the VAE) */
    public AttentionNode(Graph g, String p, Act in, int groups, int heads, float rescale) {
        this.in = in;
        this.sc = g.scratch;
        this.rescale = rescale;
        c = in.shape[0];
        int n = in.shape[1] * in.shape[2];
        this.heads = heads;
        headDim = c / heads;
        if (headDim > Attention.MAX_HEAD_DIM)
            throw new IllegalArgumentException(p + ": head dim " + headDim + " (" + c + " channels in " + heads
                    + " head(s)) exceeds the attention kernel's limit of " + Attention.MAX_HEAD_DIM
                    + "; set attention_head_dim to a divisor of " + c + " that is <= " + Attention.MAX_HEAD_DIM);
        norm = Norm.of(g, p + ".group_norm", c, groups);
        q = linear(g, p + ".to_q");
        k = linear(g, p + ".to_k");
        v = linear(g, p + ".to_v");
        proj = linear(g, p + ".to_out.0");
        xn = g.stat(in.shape);
        qc = g.stat(in.shape);    // Q, K, V and the attention output, channel-first (C, H, W)
        kc = g.stat(in.shape);
        vc = g.stat(in.shape);
        oc = g.stat(in.shape);
        out = g.act(in.shape);
        mean = g.stat(groups);
        rstd = g.stat(groups);
        lse = g.stat(heads, n);
        // g (if r != 1), dO, dq, dk, dv, delta, dxn, part, GroupNorm scratch
        g.needBackward(in.shape, in.shape, in.shape, in.shape, in.shape, new int[]{heads, n}, in.shape, in.shape, new int[]{2, c});
    }

    private Conv linear(Graph g, String prefix) {
        return new Conv(g.param(prefix + ".weight", c, c), g.param(prefix + ".bias", c), Conv2dSpec.pointwise());
    }

    private static Tensor w4(Tensor w) { return w.reshape(w.dim(0), w.dim(1), 1, 1); }

    private static void conv(Conv cv, Tensor y, Tensor x) {
        Conv2d.forward(y, x, w4(cv.w().w), cv.b().w, cv.spec());
    }

    private static void convBack(Conv cv, Tensor dx, Tensor dy, Tensor x) {
        Conv2d.backward(dx, w4(cv.w().g), cv.b().g, dy, x, w4(cv.w().w), cv.spec());
    }

    @Override public Act[] ins() { return new Act[]{in}; }

    @Override public Act out() { return out; }

    @Override
    public void forward(int b) {
        Tensor x = in.v(b), y = out.v(b), xnb = xn.v(b);
        GroupNorm.forward(xnb, mean.v(b), rstd.v(b), x, norm.gamma().w, norm.beta().w, norm.groups(), norm.eps());
        conv(q, qc.v(b), xnb);
        conv(k, kc.v(b), xnb);
        conv(v, vc.v(b), xnb);
        Attention.forwardChannels(oc.v(b), lse.v(b), qc.v(b), kc.v(b), vc.v(b), heads, (float) (1.0 / Math.sqrt(headDim)));
        // y = (to_out(o) + x) / r in the projection's output pass
        Conv2d.forwardFused(y, oc.v(b), w4(proj.w().w), proj.b().w, null, x, rescale != 1f ? 1f / rescale : 1f,
                proj.spec());
    }

    @Override
    public void backward(int b, Tensor[] d) {
        long mark = sc.mark();
        Tensor x = in.v(b), dy = out.g(b), g = dy;
        if (rescale != 1f) {
            g = sc.take(dy.shape());
            Elementwise.scale(g, dy, 1f / rescale);
        }
        Tensor dO = sc.take(x.shape());
        convBack(proj, dO, g, oc.v(b));
        Tensor dq = sc.take(x.shape()), dk = sc.take(x.shape()), dv = sc.take(x.shape());
        Attention.backwardChannels(dq, dk, dv, dO, qc.v(b), kc.v(b), vc.v(b), oc.v(b), lse.v(b), sc.take(lse.v(b).shape()),
                heads, (float) (1.0 / Math.sqrt(headDim)));
        Tensor dxn = sc.take(x.shape()), part = sc.take(x.shape()), xnb = xn.v(b);
        convBack(q, dxn, dq, xnb);
        convBack(k, part, dk, xnb);
        Elementwise.add(dxn, dxn, part);
        convBack(v, part, dv, xnb);
        Elementwise.add(dxn, dxn, part);
        Tensor dx = d[0] != null ? d[0] : part;
        GroupNorm.backward(dx, norm.gamma().g, norm.beta().g, dxn, x, norm.gamma().w, norm.beta().w, mean.v(b), rstd.v(b),
                sc.take(GroupNorm.scratchShape(b, c)), norm.groups());
        Elementwise.add(dx, dx, g);
        sc.release(mark);
    }
}
