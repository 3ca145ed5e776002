package dev.diffuse.tornado;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.diffuse.kernels.conv2d.Conv2dSpec;
import dev.diffuse.models.unet.UNet2DModel;
import dev.diffuse.models.unet.UNetConfig;
import dev.diffuse.tornado.kernels.AttentionTornado;
import dev.diffuse.tornado.kernels.AttentionTornado.Layout;
import dev.diffuse.tornado.kernels.Conv2dTornado;
import dev.diffuse.tornado.kernels.ElementwiseTornado;
import dev.diffuse.tornado.kernels.EmbeddingTornado;
import dev.diffuse.tornado.kernels.GroupNormTornado;
import dev.diffuse.tornado.kernels.LinearTornado;
import dev.diffuse.tornado.kernels.ShapeTornado;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The forward of a diffusers {@code UNet2DModel} at one batch size as TornadoVM tasks, in the node order of
 * {@code models.unet.Tape} (conv_in; down blocks pushing the skip stack; mid block; up blocks popping it through
 * channel concats; GroupNorm-SiLU-conv_out) with the same formulas as its nodes, and three fusions the task graph
 * makes cheap:
 * <ul>
 *   <li>every resnet's {@code time_emb_proj(silu(emb))} is one GEMM over all resnets (stacked weights), and its
 *       broadcast add is conv1's epilogue; the skip add (identity or 1x1 shortcut) is conv2's;</li>
 *   <li>attention: Q, K, V come from one 1x1 convolution with stacked weights, attention reads them and writes O in
 *       the channel layout (no transposes), and the output projection adds the residual in its epilogue;</li>
 *   <li>{@code silu(linear_1(.))} is one task.</li>
 * </ul>
 * Building plans the activation memory ({@link ArenaPlan}: temporaries are freed after their last consumer, skips when
 * their concat consumes them) and the weight layout ({@link ParamPack}); {@link #emit} then adds the tasks for the
 * arrays allocated with those sizes. Shapes, offsets and flags are compile-time constants of each task.
 */
public final class UNetTornado {
    /** An activation (batch, c, h, w) at element offset {@code off} of the activation array. */
    public record Act(int off, int c, int h, int w) {
        long numel(int batch) { return (long) batch * c * h * w; }
    }

    private interface Op { void emit(Tasks t, FloatArray act, FloatArray par); }

    private final UNetConfig cfg;
    private final int nb;
    private final ArenaPlan plan;
    private final ParamPack pack;
    private final List<Op> ops = new ArrayList<>();
    private final Set<Integer> pinned = new HashSet<>();
    private final Map<String, Integer> timeColumn = new LinkedHashMap<>();
    private int tp, tpWidth;
    /** Output offset (batch, out_channels, H, W), written by the last task. */
    public final Act out;

    /**
     * Plans the forward of {@code cfg} for {@code batch} samples reading x at {@code x} (batch, in_channels, H, W),
     * timesteps at {@code steps} (batch) and, for a class-conditional model, class ids at {@code labels} (batch) of the
     * activation array planned by {@code plan}; weights come from {@code pack}. The caller owns those three inputs.
     */
    public UNetTornado(UNetConfig cfg, int batch, ArenaPlan plan, ParamPack pack, int x, int steps, int labels) {
        if (cfg.sampleSize() == null) throw new IllegalArgumentException("TornadoVM U-Net: config has no sample_size");
        if (cfg.numClassEmbeds() != null && labels < 0)
            throw new IllegalArgumentException("TornadoVM U-Net: the model is class-conditional; give the class labels' offset");
        this.cfg = cfg;
        this.nb = batch;
        this.plan = plan;
        this.pack = pack;
        int s = cfg.sampleSize();
        Act in = new Act(x, cfg.inChannels(), s, s);
        pinned.add(x);
        timeEmbedding(steps, labels);
        if (cfg.centerInputSample()) {   // 2x - 1
            Act c = alloc(in.c, s, s), raw = in;
            ops.add((t, a, p) -> ElementwiseTornado.affine(t, a, c.off, raw.off, 2f, -1f, (int) raw.numel(nb)));
            in = c;
        }
        Act h = conv(in, "conv_in", cfg.channels(0), Conv2dSpec.same3x3(), -1);
        release(in);
        out = build(h);
    }

    /** The batch this forward was planned for. */
    public int batch() { return nb; }

    /** Adds the forward's tasks to the chain over the activation array and the packed weights. */
    public void emit(GraphChain chain, FloatArray act, FloatArray par) {
        for (Op op : ops) op.emit(chain.tasks(), act, par);
    }

    /** Number of tasks {@link #emit} adds. */
    public int taskCount() { return ops.size(); }

    private Act alloc(int c, int h, int w) {
        return new Act(plan.alloc((long) nb * c * h * w), c, h, w);
    }

    private void release(Act a) {
        if (!pinned.contains(a.off)) plan.free(a.off, a.numel(nb));
    }

    /** emb = linear_2(silu(linear_1(sinusoid(t)))) [+ class rows]; semb = silu(emb); tp = semb W_all^T + b_all. */
    private void timeEmbedding(int steps, int labels) {
        int c0 = cfg.channels(0), td = cfg.timeDim();
        int temb = plan.alloc((long) nb * c0), l1 = plan.alloc((long) nb * td), semb = plan.alloc((long) nb * td);
        boolean flip = cfg.flipSinToCos();
        float shift = cfg.freqShift();
        int w1 = pack.param("time_embedding.linear_1.weight"), b1 = pack.param("time_embedding.linear_1.bias");
        int w2 = pack.param("time_embedding.linear_2.weight"), b2 = pack.param("time_embedding.linear_2.bias");
        ops.add((t, a, p) -> EmbeddingTornado.sinusoidal(t, a, temb, steps, nb, c0, flip, shift));
        ops.add((t, a, p) -> LinearTornado.forward(t, a, p, l1, temb, w1, b1, nb, td, c0, true));
        if (cfg.numClassEmbeds() == null) {
            ops.add((t, a, p) -> LinearTornado.forward(t, a, p, semb, l1, w2, b2, nb, td, td, true));
        } else {
            int table = pack.param("class_embedding.weight"), k = cfg.numClassEmbeds();
            ops.add((t, a, p) -> LinearTornado.forward(t, a, p, semb, l1, w2, b2, nb, td, td, false));
            ops.add((t, a, p) -> EmbeddingTornado.lookupAdd(t, a, p, semb, table, labels, nb, td, k));
            ops.add((t, a, p) -> ElementwiseTornado.silu(t, a, semb, semb, nb * td));
        }
        plan.free(temb, (long) nb * c0);
        plan.free(l1, (long) nb * td);
        // every resnet's time_emb_proj, stacked in the model's parameter order: one (nb, sum C_out) GEMM
        List<String> ws = new ArrayList<>(), bs = new ArrayList<>();
        for (Map.Entry<String, int[]> e : UNet2DModel.layout(cfg).entrySet()) {
            String name = e.getKey();
            if (!name.endsWith(".time_emb_proj.weight")) continue;
            String prefix = name.substring(0, name.length() - ".time_emb_proj.weight".length());
            timeColumn.put(prefix, tpWidth);
            tpWidth += e.getValue()[0];
            ws.add(name);
            bs.add(prefix + ".time_emb_proj.bias");
        }
        int w = pack.stack(ws), b = pack.stack(bs), width = tpWidth;
        tp = plan.alloc((long) nb * width);
        int tpOff = tp;
        ops.add((t, a, p) -> LinearTornado.forward(t, a, p, tpOff, semb, w, b, nb, width, td, false));
        plan.free(semb, (long) nb * td);
    }

    /** Down blocks, mid block, up blocks and the head, as {@code Tape.build}. */
    private Act build(Act h) {
        int n = cfg.blocks(), layers = cfg.layersPerBlock(), groups = cfg.normNumGroups();
        Deque<Act> skips = new ArrayDeque<>();
        push(skips, h);
        for (int i = 0; i < n; i++) {
            String p = "down_blocks." + i;
            for (int j = 0; j < layers; j++) {
                h = resnet(h, p + ".resnets." + j, cfg.channels(i), 1f);
                if (cfg.downHasAttention(i)) h = attention(h, p + ".attentions." + j, groups, 1f);
                push(skips, h);
            }
            if (i != n - 1) {
                Conv2dSpec spec = cfg.downsamplePadding() == 0 ? Conv2dSpec.down3x3Asymmetric() : Conv2dSpec.down3x3();
                h = conv(h, p + ".downsamplers.0.conv", cfg.channels(i), spec, -1);
                push(skips, h);
            }
        }
        if (cfg.hasMid()) {
            float s = cfg.midBlockScaleFactor();
            int c = cfg.channels(n - 1);
            h = resnet(h, "mid_block.resnets.0", c, s);
            if (cfg.addAttention()) h = attention(h, "mid_block.attentions.0", cfg.midAttnGroups(), s);
            h = resnet(h, "mid_block.resnets.1", c, s);
        }
        for (int i = 0; i < n; i++) {
            String p = "up_blocks." + i;
            int cout = cfg.channels(n - 1 - i);
            for (int j = 0; j <= layers; j++) {
                Act skip = skips.pop();
                pinned.remove(skip.off);
                h = concat(h, skip);
                h = resnet(h, p + ".resnets." + j, cout, 1f);
                if (cfg.upHasAttention(i)) h = attention(h, p + ".attentions." + j, groups, 1f);
            }
            if (i != n - 1) h = upsample(h, p + ".upsamplers.0.conv");
        }
        plan.free(tp, (long) nb * tpWidth);
        Act a = groupNorm(h, "conv_norm_out", cfg.normNumGroups(), true);
        release(h);
        Act y = conv(a, "conv_out", cfg.outChannels(), Conv2dSpec.same3x3(), -1);
        release(a);
        return y;
    }

    private void push(Deque<Act> skips, Act a) {
        skips.push(a);
        pinned.add(a.off);
    }

    /** y = conv(x) + bias [+ r at res]. */
    private Act conv(Act x, String prefix, int cout, Conv2dSpec spec, int res) {
        return conv(x, prefix, cout, spec, -1, 0, res);
    }

    private Act conv(Act x, String prefix, int cout, Conv2dSpec spec, int extra, int extraStride, int res) {
        Act y = alloc(cout, spec.outH(x.h), spec.outW(x.w));
        int w = pack.param(prefix + ".weight"), b = pack.param(prefix + ".bias");
        ops.add((t, a, p) -> Conv2dTornado.forward(t, a, p, y.off, x.off, w, b, extra, extraStride, res, nb, x.c, x.h, x.w, cout, spec));
        return y;
    }

    private Act groupNorm(Act x, String prefix, int groups, boolean silu) {
        Act y = alloc(x.c, x.h, x.w);
        int g = pack.param(prefix + ".weight"), b = pack.param(prefix + ".bias");
        float eps = cfg.normEps();
        ops.add((t, a, p) -> GroupNormTornado.forward(t, a, p, y.off, x.off, g, b, -1, nb, x.c, x.h * x.w, groups, eps, silu));
        return y;
    }

    /** ResnetBlock2D: y = (shortcut(x) + conv2(silu(gn2(conv1(silu(gn1(x))) + tp)))) / s. */
    private Act resnet(Act x, String p, int cout, float scale) {
        int groups = cfg.normNumGroups();
        Act a1 = groupNorm(x, p + ".norm1", groups, true);
        Act h1 = conv(a1, p + ".conv1", cout, Conv2dSpec.same3x3(), tp + timeColumn.get(p), tpWidth, -1);
        release(a1);
        Act a2 = groupNorm(h1, p + ".norm2", groups, true);
        release(h1);
        Act sc = x.c != cout ? conv(x, p + ".conv_shortcut", cout, Conv2dSpec.pointwise(), -1) : x;
        Act y = conv(a2, p + ".conv2", cout, Conv2dSpec.same3x3(), sc.off);
        release(a2);
        if (sc != x) release(sc);
        release(x);
        scale(y, scale);
        return y;
    }

    /** Attention with group_norm and residual: y = (to_out(attn(to_q/k/v(gn(x)))) + x) / r, channel layout throughout. */
    private Act attention(Act x, String p, int groups, float rescale) {
        int c = x.c, hw = x.h * x.w, heads = cfg.heads(c), d = c / heads;
        Act xn = groupNorm(x, p + ".group_norm", groups, false);
        Act qkv = alloc(3 * c, x.h, x.w);
        int w = pack.stack(List.of(p + ".to_q.weight", p + ".to_k.weight", p + ".to_v.weight"));
        int b = pack.stack(List.of(p + ".to_q.bias", p + ".to_k.bias", p + ".to_v.bias"));
        ops.add((t, a, pr) -> Conv2dTornado.forward(t, a, pr, qkv.off, xn.off, w, b, nb, c, x.h, x.w, 3 * c, Conv2dSpec.pointwise()));
        release(xn);
        Act o = alloc(c, x.h, x.w);
        float sc = (float) (1.0 / Math.sqrt(d));
        ops.add((t, a, pr) -> AttentionTornado.forward(t, a, o.off, qkv.off, qkv.off + c * hw, qkv.off + 2 * c * hw, nb, heads, hw, d,
                Layout.channels(3 * c, hw, d), Layout.channels(c, hw, d), sc));
        release(qkv);
        Act y = conv(o, p + ".to_out.0", c, Conv2dSpec.pointwise(), x.off);
        release(o);
        release(x);
        scale(y, rescale);
        return y;
    }

    private void scale(Act y, float s) {
        if (s != 1f) ops.add((t, a, p) -> ElementwiseTornado.affine(t, a, y.off, y.off, 1f / s, 0f, (int) y.numel(nb)));
    }

    /** torch.cat([h, skip], dim=1). */
    private Act concat(Act h, Act skip) {
        Act y = alloc(h.c + skip.c, h.h, h.w);
        ops.add((t, a, p) -> ShapeTornado.concatChannels(t, a, y.off, h.off, skip.off, nb, h.c, skip.c, h.h * h.w));
        release(h);
        release(skip);
        return y;
    }

    /** Upsample2D: conv3x3(nearest2x(x)). */
    private Act upsample(Act x, String prefix) {
        Act up = alloc(x.c, 2 * x.h, 2 * x.w);
        ops.add((t, a, p) -> ShapeTornado.upsampleNearest2x(t, a, up.off, x.off, nb, x.c, x.h, x.w));
        release(x);
        Act y = conv(up, prefix, x.c, Conv2dSpec.same3x3(), -1);
        release(up);
        return y;
    }
}
