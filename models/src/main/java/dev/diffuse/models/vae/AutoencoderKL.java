package dev.diffuse.models.vae;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.diffuse.kernels.reduce.Reduce;
import dev.diffuse.models.train.Parameterized;
import dev.diffuse.models.unet.Graph;
import dev.diffuse.models.unet.Graph.Act;
import dev.diffuse.models.unet.Node;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;

/**
 * diffusers {@code AutoencoderKL} (Rombach et al. 2022's KL-regularised autoencoder) with a manual backward, built from
 * the U-Net's layers ({@link Graph}, {@code ResnetNode} without time embedding, {@code AttentionNode} with one head):
 * <pre>
 *   encoder: conv_in -> per level: layers_per_block resnets (+ downsampler conv, stride 2, pad (0,1,0,1), but the last)
 *            -> mid (resnet, attention, resnet) -> conv_norm_out, SiLU, conv_out (2L channels) -> quant_conv (1x1)
 *            = moments (B, 2L, h, w): mean and logvar of q(z | x)
 *   z = mean + exp(logvar / 2) eps  (training; the mode z = mean to encode)                       {@link PosteriorNode}
 *   decoder: post_quant_conv (1x1) -> conv_in -> mid -> per level, channels reversed: layers_per_block + 1 resnets
 *            (+ nearest 2x upsample and conv, but the last) -> conv_norm_out, SiLU, conv_out (out_channels)
 * </pre>
 * Every GroupNorm has eps 1e-6 and norm_num_groups groups. Memory (parameters, gradients, activations for maxBatch,
 * scratch) is allocated at construction; passes allocate nothing and never read back to the host. Diffusion runs on
 * {@code z * scaling_factor}; {@link #decode} takes unscaled z.
 */
public final class AutoencoderKL implements Parameterized {
    private final AutoencoderKLConfig cfg;
    private final Graph g;
    private final List<Node> encoder, decoder, all = new ArrayList<>();
    private final Act xin, moments, out;
    private final PosteriorNode posterior;
    private final Device device;
    private final Workspace ws;
    private final Tensor paramSlab, gradSlab;
    private final Map<String, Tensor> named = new LinkedHashMap<>(), namedGrads = new LinkedHashMap<>();
    private int lastBatch = -1;

    /** @param training false allocates no gradients nor backward scratch: for encoding and decoding */
    public AutoencoderKL(AutoencoderKLConfig cfg, Device device, int maxBatch, boolean training) {
        if (maxBatch <= 0) throw new IllegalArgumentException("AutoencoderKL: maxBatch must be positive, got " + maxBatch);
        this.cfg = cfg;
        this.device = device;
        VaeTape t = new VaeTape(cfg, maxBatch, training);
        g = t.g;
        encoder = t.encoder;
        decoder = t.decoder;
        xin = t.xin;
        moments = t.moments;
        posterior = t.posterior;
        out = t.out;
        all.addAll(encoder);
        all.add(posterior);
        all.addAll(decoder);
        Graph.Allocation a = g.allocate(device, "AutoencoderKL", String.format("an AutoencoderKL of %d parameters at %dx%d for batches up to %d%s",
                parameterCount(cfg), cfg.sampleSize(), cfg.sampleSize(), maxBatch, training ? " with gradients" : ""), "use a smaller batch");
        ws = a.ws();
        paramSlab = a.params();
        gradSlab = a.grads();
        named.putAll(a.named());
        namedGrads.putAll(a.namedGrads());
    }

    /** Parameter names and shapes in registration order (allocates nothing). */
    public static Map<String, int[]> layout(AutoencoderKLConfig cfg) { return new VaeTape(cfg, 1, false).g.layout(); }

    public static long parameterCount(AutoencoderKLConfig cfg) {
        return layout(cfg).values().stream().mapToLong(Tensor::numel).sum();
    }

    /** FLOPs of encoding {@code batch} images (to the moments) and of decoding {@code batch} latents ({@link Node#flops}). */
    public static double[] forwardFlops(AutoencoderKLConfig cfg, int batch) {
        VaeTape t = new VaeTape(cfg, 1, false);
        return new double[]{Node.flops(t.encoder, batch), Node.flops(t.decoder, batch)};
    }

    /** Device bytes a model of {@code cfg} takes for batches up to {@code maxBatch}, computed without allocating. */
    public static long bytesNeeded(AutoencoderKLConfig cfg, int maxBatch, boolean training) {
        return new VaeTape(cfg, maxBatch, training).g.bytesNeeded();
    }

    public AutoencoderKLConfig config() { return cfg; }

    @Override public Device device() { return device; }

    @Override public Tensor parameters() { return paramSlab; }

    @Override
    public Tensor gradients() {
        if (gradSlab == null) throw new IllegalStateException("this AutoencoderKL was built for inference (training = false): no gradients");
        return gradSlab;
    }

    @Override public Map<String, Tensor> namedParameters() { return Collections.unmodifiableMap(named); }

    public Map<String, Tensor> namedGradients() { return Collections.unmodifiableMap(namedGrads); }

    public int maxBatch() { return g.maxBatch; }

    public boolean training() { return g.training; }

    /** PyTorch's default initialisation, seeded (conv weights and biases U(+-1/sqrt(fan_in)), GroupNorm 1 and 0). */
    public void initialize(long seed) { g.initialize(seed); }

    /**
     * Training forward: recon = decoder(mean + exp(logvar / 2) eps) with eps from (seed, stream), and klSum (1 element)
     * = sum over the batch of KL(q(z | x) || N(0, I)). Keeps what {@link #backward} needs.
     */
    public synchronized void forward(Tensor recon, Tensor klSum, Tensor x, long seed, long stream) {
        int b = checkImages("forward", x, cfg.inChannels());
        checkImages("forward (recon)", recon, cfg.outChannels());
        lastBatch = -1;
        g.scratch.reset();
        xin.v(b).copyFrom(x);
        posterior.seed = seed;
        posterior.stream = stream;
        posterior.sample = true;
        for (Node n : all) n.forward(b);
        recon.copyFrom(out.v(b));
        if (klSum != null) Reduce.sum(klSum, posterior.kl.v(b));
        lastBatch = b;
    }

    /**
     * Backward of the last {@link #forward} for the loss L(recon) + klWeight * klSum, given dRecon = dL/drecon:
     * gradients += dL/dtheta.
     */
    public synchronized void backward(Tensor dRecon, float klWeight) {
        if (!g.training) throw new IllegalStateException("backward on an AutoencoderKL built with training = false");
        if (lastBatch < 0) throw new IllegalStateException("backward needs a completed training forward: run forward first");
        int b = lastBatch;
        if (!Arrays.equals(dRecon.shape(), Graph.withBatch(b, out.shape)))
            throw new IllegalArgumentException("backward: dRecon " + dRecon + " must have the shape of the last output "
                    + Arrays.toString(Graph.withBatch(b, out.shape)));
        posterior.klWeight = klWeight;
        g.beginBackward(out, b, dRecon);
        g.backward(all, b, a -> a == xin);
    }

    /** moments (B, 2L, h, w) = the encoder's output for images x (B, C, H, W). */
    public synchronized void encode(Tensor momentsOut, Tensor x) {
        momentsOut.copyFrom(moments.v(runEncoder(x)));
    }

    /** z (B, L, h, w) = the posterior's mode (its mean) for images x: what latent diffusion trains on, times scaling_factor. */
    public synchronized void encodeMean(Tensor z, Tensor x) {
        int b = runEncoder(x);
        posterior.sample = false;
        posterior.forward(b);
        z.copyFrom(posterior.out.v(b));
    }

    /** Runs the encoder on x; returns the batch. */
    private int runEncoder(Tensor x) {
        int b = checkImages("encode", x, cfg.inChannels());
        lastBatch = -1;
        g.scratch.reset();
        xin.v(b).copyFrom(x);
        for (Node n : encoder) n.forward(b);
        return b;
    }

    /** images (B, out_channels, H, W) = decoder(z) for unscaled latents z (B, L, h, w). */
    public synchronized void decode(Tensor images, Tensor z) {
        int[] ls = cfg.latentShape();
        if (z.rank() != 4 || z.dim(1) != ls[0] || z.dim(2) != ls[1] || z.dim(3) != ls[2] || z.dim(0) < 1 || z.dim(0) > g.maxBatch)
            throw new IllegalArgumentException("AutoencoderKL decode: z " + z + " must be (B, " + ls[0] + ", " + ls[1] + ", " + ls[2]
                    + ") with B <= maxBatch " + g.maxBatch);
        int b = z.dim(0);
        checkImages("decode (images)", images, cfg.outChannels());
        lastBatch = -1;
        g.scratch.reset();
        posterior.out.v(b).copyFrom(z);
        for (Node n : decoder) n.forward(b);
        images.copyFrom(out.v(b));
    }

    private int checkImages(String op, Tensor t, int channels) {
        int s = cfg.sampleSize();
        if (t.rank() != 4 || t.dim(1) != channels || t.dim(2) != s || t.dim(3) != s)
            throw new IllegalArgumentException("AutoencoderKL " + op + ": " + t + " must be (B, " + channels + ", " + s + ", " + s
                    + ") for this model (channels, sample_size)");
        if (t.dim(0) < 1 || t.dim(0) > g.maxBatch)
            throw new IllegalArgumentException("AutoencoderKL " + op + ": batch " + t.dim(0) + " exceeds the maxBatch " + g.maxBatch
                    + " the model was built for; split the batch");
        if (t.device() != device)
            throw new IllegalArgumentException("AutoencoderKL " + op + ": " + t + " is not on the model's device " + device.id());
        return t.dim(0);
    }

    @Override
    public void close() { ws.close(); }
}
