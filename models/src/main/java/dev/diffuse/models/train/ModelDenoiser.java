package dev.diffuse.models.train;

import dev.diffuse.kernels.elementwise.Elementwise;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.DifferentiableDenoiser;
import dev.diffuse.samplers.guidance.ConditionalDenoiser;
import dev.diffuse.samplers.schedule.DiscreteSchedule;

/**
 * A trained epsilon-prediction model as a sampler's denoiser. The network is conditioned on the DDPM timestep whose
 * noise level matches the sampler's (s, sigma) ({@link DiscreteSchedule#timestepOf}: the exact index for the discrete
 * samplers, a fractional one for continuous-time VP samplers), all rows evaluated in chunks of at most the model's maxBatch ({@link Chunks}), optionally
 * conditioned on one class label for all rows, or (as a {@link ConditionalDenoiser}) on a label per row. Sample with the EMA weights: wrap the sampler call in
 * {@link Trainer#withEmaWeights}, or load them into the model. No host read-back.
 */
public final class ModelDenoiser implements DifferentiableDenoiser, NetworkDenoiser, ConditionalDenoiser {
    private final TrainableModel model;
    private final Workspace ws;
    private final Tensor t, y;
    private final Chunks chunks;
    private int label = -1;
    private Workspace vjpWs; // staging of vjp: x, v, dx and the forward output; made on the first vjp
    private final DiscreteSchedule schedule;

    /** A denoiser for a model trained on diffusers' default schedule (linear betas 1e-4..0.02, 1000 steps). */
    public ModelDenoiser(TrainableModel model) { this(model, DiscreteSchedule.ddpmDefault()); }

    /** A denoiser for a model trained on {@code schedule}. */
    public ModelDenoiser(TrainableModel model, DiscreteSchedule schedule) {
        this.model = model;
        this.schedule = schedule;
        this.ws = new Workspace(model.device(), "model denoiser", 8L * model.maxBatch() + 8192);
        this.t = ws.tensor(model.maxBatch());
        this.y = ws.tensor(model.maxBatch());
        long per = Tensor.numel(model.sampleShape());
        this.chunks = new Chunks(model.device(), model.maxBatch(), per, per);
    }

    /** Condition every row on class {@code k}; -1 (default) for none. */
    public synchronized ModelDenoiser classLabel(int k) {
        if (k < -1) throw new IllegalArgumentException("class label must be >= 0, or -1 for unconditional, got " + k);
        this.label = k;
        if (k >= 0) Elementwise.fill(y, k);
        return this;
    }

    @Override public Prediction prediction() { return Prediction.EPSILON; }

    @Override
    public synchronized void predict(Tensor out, Tensor x, NoiseLevel level) {
        if (out.numel() != x.numel()) throw new IllegalArgumentException("model denoiser: out " + out + " must match x " + x);
        int[] row = model.sampleShape();
        Elementwise.fill(t, (float) schedule.timestepOf(level.scale(), level.sigma()));
        chunks.run(out, x, null, null, row, row, (o, xin, unused1, unused2, b) ->
                model.forward(o, xin, t.view(0, b), label >= 0 ? y.view(0, b) : null));
    }

    /**
     * The prediction with a class label per row: labels (N) holds class ids 0..numClasses-1 as floats on x's device
     * (the model's own ids: a model trained with an "unconditional" class row takes that row's id, not
     * {@link ConditionalDenoiser#NULL_LABEL}). Rows are evaluated in chunks of the model's maxBatch.
     */
    @Override
    public synchronized void predict(Tensor out, Tensor x, Tensor labels, NoiseLevel level) {
        if (out.numel() != x.numel()) throw new IllegalArgumentException("model denoiser: out " + out + " must match x " + x);
        if (labels.numel() != x.dim(0))
            throw new IllegalArgumentException("model denoiser: labels " + labels + " must hold one class per row of x " + x);
        int[] row = model.sampleShape();
        Elementwise.fill(t, (float) schedule.timestepOf(level.scale(), level.sigma()));
        chunks.run(out, x, labels, null, row, row, (o, xin, lab, unused, b) -> model.forward(o, xin, t.view(0, b), lab));
    }

    /**
     * out = (d eps_theta(x) / d x)^T v through the model's own backward: per chunk a forward (which keeps the
     * activations) and a backward with dOut = v that writes dx. The backward also accumulates into the model's
     * parameter gradients, which a caller in the middle of training must zero afterwards.
     */
    @Override
    public synchronized void vjp(Tensor out, Tensor x, NoiseLevel level, Tensor v) {
        if (out.numel() != x.numel() || v.numel() != x.numel())
            throw new IllegalArgumentException("model vjp: out " + out + " and v " + v + " must match x " + x);
        int[] row = model.sampleShape();
        int n = x.dim(0), mb = model.maxBatch();
        int per = Math.toIntExact(Tensor.numel(row));
        Tensor[] s = staging(mb * per);
        Elementwise.fill(t, (float) schedule.timestepOf(level.scale(), level.sigma()));
        for (int first = 0; first < n; first += mb) {
            int b = Math.min(mb, n - first);
            int[] shape = new int[row.length + 1];
            shape[0] = b;
            System.arraycopy(row, 0, shape, 1, row.length);
            Tensor xin = s[1].view(0, shape), vin = s[2].view(0, shape), dx = s[3].view(0, shape), fwd = s[4].view(0, shape);
            xin.copyFrom(x.view((long) first * per, shape));
            vin.copyFrom(v.view((long) first * per, shape));
            model.forward(fwd, xin, t.view(0, b), label >= 0 ? y.view(0, b) : null);
            model.backward(vin, dx);
            out.view((long) first * per, shape).copyFrom(dx);
        }
    }

    /** The whole staging slab followed by x, v, dx and forward-output views of {@code elems} floats each. */
    private Tensor[] staging(int elems) {
        if (vjpWs == null) {
            vjpWs = new Workspace(model.device(), "model vjp", 16L * elems + (1 << 16));
            staging = vjpWs.slab(new int[]{elems}, new int[]{elems}, new int[]{elems}, new int[]{elems});
        }
        return staging;
    }

    private Tensor[] staging;

    @Override
    public void close() {
        if (vjpWs != null) vjpWs.close();
        chunks.close();
        ws.close();
    }
}
