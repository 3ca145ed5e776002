package dev.diffuse.models.unet;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.diffuse.kernels.conv2d.Conv2dSpec;
import dev.diffuse.models.unet.Graph.Act;
import dev.diffuse.models.unet.Graph.Param;

/**
 * The U-Net as a fixed list of {@link Node}s built from a config (spec §3.4, §3.8-3.11), plus the time-embedding
 * parameters and activations the model runs before the tape. Building allocates nothing: {@link Graph#allocate}
 * does, later. Parameters end up in diffusers' state-dict order (see {@link #order}).
 */
final class Tape {
    final UNetConfig cfg;
    final Graph g;
    final int height, width;
    final List<Node> nodes = new ArrayList<>();
    final Act xin, xTape, temb, l1, s1, emb, semb, labels, steps, out;
    final Param w1, b1, w2, b2, classTable;

    Tape(UNetConfig cfg, int maxBatch, boolean training) {
        if (cfg.sampleSize() == null)
            throw new IllegalArgumentException("UNet2DModel: config has no sample_size; set it (e.g. 32) to size the activations");
        this.cfg = cfg;
        this.g = new Graph(cfg.normNumGroups(), cfg.normEps(), maxBatch, training);
        this.height = this.width = cfg.sampleSize();
        int c0 = cfg.channels(0), t = cfg.timeDim();
        // the input and the time embedding live for the whole pass (every resnet reads semb); the nodes' activations
        // only as long as the memory plan of an inference graph says (Graph#plan)
        xin = g.act(cfg.inChannels(), height, width);
        temb = g.stat(c0);
        l1 = g.stat(t);
        s1 = g.stat(t);
        emb = g.stat(t);
        semb = g.act(t);
        labels = g.stat();
        steps = g.stat();
        g.needBackward(new int[]{t}, new int[]{t}, new int[]{t});
        g.beginNodes();
        xTape = cfg.centerInputSample() ? add(new Node.CenterNode(g, xin)).out() : xin;
        Act h = add(new Node.ConvNode(g, "conv_in", xTape, c0, Conv2dSpec.same3x3())).out();
        w1 = g.param("time_embedding.linear_1.weight", t, c0);
        b1 = g.param("time_embedding.linear_1.bias", t);
        w2 = g.param("time_embedding.linear_2.weight", t, t);
        b2 = g.param("time_embedding.linear_2.bias", t);
        classTable = cfg.numClassEmbeds() != null ? g.param("class_embedding.weight", cfg.numClassEmbeds(), t) : null;
        out = build(h);
        g.keep(out);
        List<Param> sorted = order(g.params);
        g.params.clear();
        g.params.addAll(sorted);
    }

    private Node add(Node n) {
        nodes.add(n);
        g.node(n);
        return n;
    }

    /** Down blocks, mid block, up blocks and the head. */
    private Act build(Act h) {
        int n = cfg.blocks(), layers = cfg.layersPerBlock(), groups = cfg.normNumGroups();
        Deque<Act> skips = new ArrayDeque<>();
        skips.push(h);
        for (int i = 0; i < n; i++) {
            String p = "down_blocks." + i;
            for (int j = 0; j < layers; j++) {
                h = add(new ResnetNode(g, p + ".resnets." + j, h, cfg.channels(i), 1f, semb)).out();
                if (cfg.downHasAttention(i)) h = add(new AttentionNode(g, p + ".attentions." + j, h, groups, cfg.heads(h.shape[0]), 1f)).out();
                skips.push(h);
            }
            if (i != n - 1) {
                Conv2dSpec spec = cfg.downsamplePadding() == 0 ? Conv2dSpec.down3x3Asymmetric() : Conv2dSpec.down3x3();
                h = add(new Node.ConvNode(g, p + ".downsamplers.0.conv", h, cfg.channels(i), spec)).out();
                skips.push(h);
            }
        }
        if (cfg.hasMid()) {
            float s = cfg.midBlockScaleFactor();
            int c = cfg.channels(n - 1);
            h = add(new ResnetNode(g, "mid_block.resnets.0", h, c, s, semb)).out();
            if (cfg.addAttention()) h = add(new AttentionNode(g, "mid_block.attentions.0", h, cfg.midAttnGroups(), cfg.heads(c), s)).out();
            h = add(new ResnetNode(g, "mid_block.resnets.1", h, c, s, semb)).out();
        }
        for (int i = 0; i < n; i++) {
            String p = "up_blocks." + i;
            int cout = cfg.channels(n - 1 - i);
            for (int j = 0; j <= layers; j++) {
                Act s = skips.pop();
                if (s.shape[1] != h.shape[1] || s.shape[2] != h.shape[2])
                    throw new IllegalArgumentException("sample_size " + height + " does not survive the " + (n - 1)
                            + " downsamplings and upsamplings: up block " + i + " meets a skip of " + s.shape[1] + "x"
                            + s.shape[2] + " with a " + h.shape[1] + "x" + h.shape[2] + " input; use a size divisible by "
                            + (1 << (n - 1)));
                h = add(new Node.ConcatNode(g, h, s)).out();
                h = add(new ResnetNode(g, p + ".resnets." + j, h, cout, 1f, semb)).out();
                if (cfg.upHasAttention(i)) h = add(new AttentionNode(g, p + ".attentions." + j, h, groups, cfg.heads(h.shape[0]), 1f)).out();
            }
            if (i != n - 1) h = add(new Node.UpsampleNode(g, p + ".upsamplers.0.conv", h)).out();
        }
        return add(new Node.HeadNode(g, "", h, cfg.outChannels())).out();
    }

    /**
     * diffusers registers a block's attentions before its resnets (then its sampler), while the tape creates them
     * interleaved: a stable sort by (top-level module in order of appearance, child list) gives the state-dict order.
     */
    static List<Param> order(List<Param> params) {
        Map<String, Integer> module = new HashMap<>();
        for (Param p : params) module.putIfAbsent(moduleOf(p.name), module.size());
        List<Param> sorted = new ArrayList<>(params);
        sorted.sort(Comparator.comparingInt((Param p) -> module.get(moduleOf(p.name))).thenComparingInt(p -> childRank(p.name)));
        return sorted;
    }

    private static String moduleOf(String name) {
        String[] s = name.split("\\.");
        return s[0].endsWith("_blocks") ? s[0] + "." + s[1] : s[0];
    }

    private static int childRank(String name) {
        String[] s = name.split("\\.");
        if (!s[0].endsWith("_blocks") && !s[0].equals("mid_block")) return 0;
        String child = s[0].endsWith("_blocks") ? s[2] : s[1];
        return switch (child) {
            case "attentions" -> 0;
            case "resnets" -> 1;
            default -> 2;
        };
    }
}
