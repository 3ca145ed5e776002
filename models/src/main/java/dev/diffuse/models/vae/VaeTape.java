package dev.diffuse.models.vae;

import java.util.ArrayList;
import java.util.List;

import dev.diffuse.kernels.conv2d.Conv2dSpec;
import dev.diffuse.models.unet.AttentionNode;
import dev.diffuse.models.unet.Graph;
import dev.diffuse.models.unet.Graph.Act;
import dev.diffuse.models.unet.Node;
import dev.diffuse.models.unet.ResnetNode;

/**
 * The AutoencoderKL as two fixed node lists on one {@link Graph} (diffusers names), encoder -> posterior -> decoder.
 * Building allocates nothing ({@link Graph#allocate} does, in {@link AutoencoderKL}), so layouts and FLOP counts come
 * from the same code.
 */
final class VaeTape {
    final AutoencoderKLConfig cfg;
    final Graph g;
    final List<Node> encoder = new ArrayList<>(), decoder = new ArrayList<>();
    final Act xin, moments, out;
    final PosteriorNode posterior;

    VaeTape(AutoencoderKLConfig cfg, int maxBatch, boolean training) {
        this.cfg = cfg;
        this.g = new Graph(cfg.normNumGroups(), AutoencoderKLConfig.NORM_EPS, maxBatch, training);
        xin = g.act(cfg.imageShape());
        moments = buildEncoder();
        posterior = new PosteriorNode(g, moments);
        out = buildDecoder(posterior.out);
    }

    private Act buildEncoder() {
        Act h = add(encoder, new Node.ConvNode(g, "encoder.conv_in", xin, cfg.channels(0), Conv2dSpec.same3x3())).out();
        int n = cfg.levels();
        for (int i = 0; i < n; i++) {
            String p = "encoder.down_blocks." + i;
            for (int j = 0; j < cfg.layersPerBlock(); j++)
                h = add(encoder, new ResnetNode(g, p + ".resnets." + j, h, cfg.channels(i), 1f, null)).out();
            if (i != n - 1)
                h = add(encoder, new Node.ConvNode(g, p + ".downsamplers.0.conv", h, cfg.channels(i), Conv2dSpec.down3x3Asymmetric())).out();
        }
        h = mid(encoder, "encoder.mid_block", h);
        h = add(encoder, new Node.HeadNode(g, "encoder.", h, 2 * cfg.latentChannels())).out();
        if (cfg.useQuantConv()) h = add(encoder, new Node.ConvNode(g, "quant_conv", h, 2 * cfg.latentChannels(), Conv2dSpec.pointwise())).out();
        return h;
    }

    private Act buildDecoder(Act z) {
        Act h = z;
        if (cfg.usePostQuantConv()) h = add(decoder, new Node.ConvNode(g, "post_quant_conv", h, cfg.latentChannels(), Conv2dSpec.pointwise())).out();
        int n = cfg.levels();
        h = add(decoder, new Node.ConvNode(g, "decoder.conv_in", h, cfg.channels(n - 1), Conv2dSpec.same3x3())).out();
        h = mid(decoder, "decoder.mid_block", h);
        for (int i = 0; i < n; i++) {
            String p = "decoder.up_blocks." + i;
            for (int j = 0; j <= cfg.layersPerBlock(); j++)
                h = add(decoder, new ResnetNode(g, p + ".resnets." + j, h, cfg.channels(n - 1 - i), 1f, null)).out();
            if (i != n - 1) h = add(decoder, new Node.UpsampleNode(g, p + ".upsamplers.0.conv", h)).out();
        }
        return add(decoder, new Node.HeadNode(g, "decoder.", h, cfg.outChannels())).out();
    }

    /** UNetMidBlock2D as the VAE builds it: resnet, attention (one head over all channels), resnet. */
    private Act mid(List<Node> list, String p, Act h) {
        int c = h.shape[0];
        h = add(list, new ResnetNode(g, p + ".resnets.0", h, c, 1f, null)).out();
        if (cfg.midBlockAddAttention()) h = add(list, new AttentionNode(g, p + ".attentions.0", h, cfg.normNumGroups(), 1, 1f)).out();
        return add(list, new ResnetNode(g, p + ".resnets.1", h, c, 1f, null)).out();
    }

    private static Node add(List<Node> list, Node n) {
        list.add(n);
        return n;
    }

}
