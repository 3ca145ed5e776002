package dev.diffuse.models.unet;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.diffuse.kernels.activation.Activation;
import dev.diffuse.kernels.elementwise.Elementwise;
import dev.diffuse.kernels.embedding.TimestepEmbedding;
import dev.diffuse.kernels.linear.Linear;
import dev.diffuse.kernels.lookup.Lookup;
import dev.diffuse.models.train.TrainableModel;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;

/**
 * diffusers {@code UNet2DModel} (spec unet2d-diffusers.md §3) with a manual backward, on either device.
 *
 * <p>Forward: {@code emb = linear_2(silu(linear_1(sinusoid(t)))) [+ class_embedding.weight[label]]}, then the
 * {@link Tape} (conv_in, down blocks pushing the skip stack, mid block, up blocks popping it through channel
 * concats, GroupNorm-SiLU-conv_out); every resnet reads {@code silu(emb)}. All memory (parameter slab, gradient slab
 * of the same layout, activations for {@code maxBatch}, a scratch arena for temporaries) is allocated at
 * construction; forward and backward allocate no device memory and never read back to the host.
 *
 * <p>Backward: the tape runs in reverse. Each activation has a gradient buffer; the first consumer (in reverse order)
 * writes it, later consumers write into scratch and add, so a skip entry's gradient is (from the up-path concat) +
 * (from the next down layer). The resnets accumulate d silu(emb) into one buffer, which then flows back through
 * SiLU, linear_2 (and the class table: {@code dtable[label_b] += demb_b}), SiLU and linear_1.
 */
public final class UNet2DModel implements TrainableModel {
    private final Tape tape;
    private final Graph g;
    private final Device device;
    private final Workspace ws;
    private final Tensor paramSlab, gradSlab;
    private final Map<String, Tensor> named = new LinkedHashMap<>(), namedGrads = new LinkedHashMap<>();
    private int lastBatch = -1;
    private boolean wantInputGrad;

    /** A trainable model (gradients allocated) for batches up to {@code maxBatch} of the config's sample_size. */
    public UNet2DModel(UNetConfig cfg, Device device, int maxBatch) {
        this(cfg, device, maxBatch, true);
    }

    /** @param training false allocates no gradients nor backward scratch ({@link #backward} then throws): for sampling */
    public UNet2DModel(UNetConfig cfg, Device device, int maxBatch, boolean training) {
        if (maxBatch <= 0) throw new IllegalArgumentException("UNet2DModel: maxBatch must be positive, got " + maxBatch);
        this.tape = new Tape(cfg, maxBatch, training);
        this.g = tape.g;
        this.device = device;
        Graph.Allocation a = g.allocate(device, "UNet2DModel", String.format("a U-Net of %d parameters at %dx%d for batches up to %d%s",
                parameterCount(cfg), tape.height, tape.width, maxBatch, training ? " with gradients" : ""), "use a smaller batch (or sample_size)");
        ws = a.ws();
        paramSlab = a.params();
        gradSlab = a.grads();
        named.putAll(a.named());
        namedGrads.putAll(a.namedGrads());
    }

    /**
     * Device bytes a model of {@code cfg} takes for batches up to {@code maxBatch} (parameters, and with
     * {@code training} gradients and backward scratch; activations; scratch), computed without allocating. A forward
     * or backward allocates nothing beyond this.
     */
    public static long bytesNeeded(UNetConfig cfg, int maxBatch, boolean training) {
        if (maxBatch <= 0) throw new IllegalArgumentException("UNet2DModel: maxBatch must be positive, got " + maxBatch);
        return bytesNeeded(new Tape(cfg, maxBatch, training).g);
    }

    private static long bytesNeeded(Graph g) {
        try {
            return g.bytesNeeded();
        } catch (ArithmeticException e) {
            return -1; // more than 8 EiB: MemoryBudget.require refuses it
        }
    }

    /** Parameter names and shapes of {@code cfg} in diffusers' state-dict order (allocates nothing). */
    public static Map<String, int[]> layout(UNetConfig cfg) {
        return new Tape(cfg, 1, false).g.layout();
    }

    /** Number of parameters of {@code cfg}. */
    public static long parameterCount(UNetConfig cfg) {
        return layout(cfg).values().stream().mapToLong(Tensor::numel).sum();
    }

    /**
     * FLOPs (multiply + add = 2) of one forward at {@code batch}: every convolution (2 B Cout OH OW Cin K K), the time
     * MLP and time_emb_proj linears (2 B out in), the attention projections (4 x 2 B N C^2) and cores
     * (4 B heads N^2 d). Normalisations and elementwise ops are not counted (memory bound). A backward is about 2x.
     */
    public static double forwardFlops(UNetConfig cfg, int batch) {
        Tape t = new Tape(cfg, 1, false);
        int c0 = cfg.channels(0), td = cfg.timeDim();
        return 2.0 * batch * (td * c0 + (double) td * td) + Node.flops(t.nodes, batch);
    }

    public UNetConfig config() { return tape.cfg; }

    /** The bookkeeping behind this model (tests reach its scratch). */
    Graph graph() { return g; }

    @Override public Device device() { return device; }

    @Override public Tensor parameters() { return paramSlab; }

    @Override
    public Tensor gradients() {
        if (gradSlab == null) throw new IllegalStateException("this UNet2DModel was built for inference (training = false): no gradients");
        return gradSlab;
    }

    @Override public Map<String, Tensor> namedParameters() { return Collections.unmodifiableMap(named); }

    /** Gradient views with the same names (training models only). */
    public Map<String, Tensor> namedGradients() { return Collections.unmodifiableMap(namedGrads); }

    @Override public int[] sampleShape() { return new int[]{tape.cfg.inChannels(), tape.height, tape.width}; }

    @Override public int maxBatch() { return g.maxBatch; }

    @Override public int numClasses() { return tape.cfg.numClassEmbeds() == null ? 0 : tape.cfg.numClassEmbeds(); }

    public boolean training() { return g.training; }

    /** Device bytes held by this model (parameters, gradients, activations, scratch). */
    public long allocatedBytes() { return ws.usedBytes(); }

    /** PyTorch's default initialisation, seeded ({@link Graph#initialize}). */
    public void initialize(long seed) { g.initialize(seed); }

    /** {@link #forward(Tensor, Tensor, Tensor, Tensor)} without class labels. */
    public void forward(Tensor out, Tensor x, Tensor timesteps) { forward(out, x, timesteps, null); }

    /**
     * {@inheritDoc} Calls on one model are serialised (the model holds one set of activations); to serve many threads,
     * batch their requests into one call (the pipeline does) or give each thread its own model. A call that fails
     * half-way leaves the model usable: every pass starts from an empty scratch, and a backward needs a forward that
     * completed.
     */
    @Override
    public synchronized void forward(Tensor out, Tensor x, Tensor timesteps, Tensor classLabels) {
        int b = check(out, x, timesteps, classLabels);
        lastBatch = -1;
        g.scratch.reset();
        tape.xin.v(b).copyFrom(x);
        Tensor temb = tape.temb.v(b), l1 = tape.l1.v(b), s1 = tape.s1.v(b), emb = tape.emb.v(b);
        UNetConfig c = tape.cfg;
        // inputs are copied (x, t, labels), so callers may pass views at any offset (OpenCL kernel arguments must be aligned)
        tape.steps.v(b).copyFrom(timesteps);
        TimestepEmbedding.sinusoidal(temb, tape.steps.v(b), c.flipSinToCos(), c.freqShift());
        Linear.forward(l1, temb, tape.w1.w, tape.b1.w);
        Activation.silu(s1, l1);
        Linear.forward(emb, s1, tape.w2.w, tape.b2.w);
        if (tape.classTable != null) {
            tape.labels.v(b).copyFrom(classLabels);
            Lookup.addRows(emb, tape.classTable.w, tape.labels.v(b));
        }
        Activation.silu(tape.semb.v(b), emb);
        for (Node n : tape.nodes) n.forward(b);
        out.copyFrom(tape.out.v(b));
        lastBatch = b;
    }

    @Override
    public synchronized void backward(Tensor dOut, Tensor dx) {
        if (!g.training) throw new IllegalStateException("backward on a UNet2DModel built with training = false; build it with training = true");
        if (lastBatch < 0) throw new IllegalStateException("backward needs a completed forward (none yet, or the last one failed): run forward first, it keeps the activations");
        int b = lastBatch;
        int[] os = Graph.withBatch(b, tape.out.shape);
        if (!Arrays.equals(dOut.shape(), os))
            throw new IllegalArgumentException("backward: dOut " + dOut + " must have the shape of the last forward's output " + Arrays.toString(os));
        if (dx != null && !Arrays.equals(dx.shape(), Graph.withBatch(b, tape.xin.shape)))
            throw new IllegalArgumentException("backward: dx " + dx + " must have the shape of the last forward's input "
                    + Arrays.toString(Graph.withBatch(b, tape.xin.shape)));
        wantInputGrad = dx != null;
        g.beginBackward(tape.out, b, dOut);
        Elementwise.fill(tape.semb.g(b), 0f);
        g.backward(tape.nodes, b, a -> !wantInputGrad && (a == tape.xin || a == tape.xTape));
        timeBackward(b);
        if (dx != null) dx.copyFrom(tape.xin.g(b));
    }

    /** d silu(emb) -> demb -> (class table) -> linear_2 -> SiLU -> linear_1. */
    private void timeBackward(int b) {
        Graph.Scratch sc = g.scratch;
        long mark = sc.mark();
        int t = tape.cfg.timeDim();
        Tensor demb = sc.take(b, t), ds1 = sc.take(b, t), dl1 = sc.take(b, t);
        Activation.siluBackward(demb, tape.semb.g(b), tape.emb.v(b));
        if (tape.classTable != null) Lookup.addRowsBackward(tape.classTable.g, demb, tape.labels.v(b));
        Linear.backward(ds1, tape.w2.g, tape.b2.g, demb, tape.s1.v(b), tape.w2.w);
        Activation.siluBackward(dl1, ds1, tape.l1.v(b));
        Linear.backward(null, tape.w1.g, tape.b1.g, dl1, tape.temb.v(b), tape.w1.w);
        sc.release(mark);
    }

    private int check(Tensor out, Tensor x, Tensor t, Tensor labels) {
        int[] ss = sampleShape();
        if (x.rank() != 4 || x.dim(1) != ss[0] || x.dim(2) != ss[1] || x.dim(3) != ss[2])
            throw new IllegalArgumentException("UNet2DModel forward: x " + x + " must be (B, " + ss[0] + ", " + ss[1] + ", "
                    + ss[2] + ") for this model (in_channels, sample_size)");
        int b = x.dim(0);
        if (b < 1 || b > g.maxBatch)
            throw new IllegalArgumentException("UNet2DModel forward: batch " + b + " exceeds the maxBatch " + g.maxBatch
                    + " the model was built for; build it with a larger maxBatch or split the batch");
        int[] os = {b, tape.cfg.outChannels(), ss[1], ss[2]};
        if (!Arrays.equals(out.shape(), os))
            throw new IllegalArgumentException("UNet2DModel forward: out " + out + " must be " + Arrays.toString(os));
        if (t.rank() != 1 || t.dim(0) != b)
            throw new IllegalArgumentException("UNet2DModel forward: timesteps " + t + " must be (" + b + "), one per sample");
        if (tape.classTable != null && labels == null)
            throw new IllegalArgumentException("UNet2DModel forward: this model has a class embedding (num_class_embeds = "
                    + tape.cfg.numClassEmbeds() + "): class labels (B) are required");
        if (tape.classTable == null && labels != null)
            throw new IllegalArgumentException("UNet2DModel forward: class labels given but the model has no class embedding "
                    + "(num_class_embeds is null); pass null");
        if (labels != null && (labels.rank() != 1 || labels.dim(0) != b))
            throw new IllegalArgumentException("UNet2DModel forward: class labels " + labels + " must be (" + b + ")");
        for (Tensor tt : new Tensor[]{out, x, t, labels})
            if (tt != null && tt.device() != device)
                throw new IllegalArgumentException("UNet2DModel forward: " + tt + " is not on the model's device " + device.id());
        return b;
    }

    @Override
    public void close() { ws.close(); }
}
