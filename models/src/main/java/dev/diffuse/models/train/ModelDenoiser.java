package dev.diffuse.models.train;

import dev.diffuse.kernels.elementwise.Elementwise;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;

/**
 * A trained epsilon-prediction model as a sampler's {@link Denoiser}: every row of x is evaluated at
 * {@code level.timestep()} (a DDPM index), in chunks of at most the model's maxBatch, optionally conditioned on one
 * class label for all rows. Sample with the EMA weights: wrap the sampler call in {@link Trainer#withEmaWeights}, or
 * load them into the model. No host read-back.
 */
public final class ModelDenoiser implements Denoiser, AutoCloseable {
    private final TrainableModel model;
    private final Workspace ws;
    private final Tensor t, y;
    private int label = -1;

    public ModelDenoiser(TrainableModel model) {
        this.model = model;
        this.ws = new Workspace(model.device(), "model denoiser", 8L * model.maxBatch() + 8192);
        this.t = ws.tensor(model.maxBatch());
        this.y = ws.tensor(model.maxBatch());
    }

    /** Condition every row on class {@code k}; -1 (default) for none. */
    public ModelDenoiser classLabel(int k) {
        if (k < -1) throw new IllegalArgumentException("class label must be >= 0, or -1 for unconditional, got " + k);
        this.label = k;
        if (k >= 0) Elementwise.fill(y, k);
        return this;
    }

    @Override public Prediction prediction() { return Prediction.EPSILON; }

    @Override
    public void predict(Tensor out, Tensor x, NoiseLevel level) {
        if (out.numel() != x.numel()) throw new IllegalArgumentException("model denoiser: out " + out + " must match x " + x);
        int n = x.dim(0), per = Math.toIntExact(x.numel() / n), mb = model.maxBatch();
        int[] shape = x.shape();
        Elementwise.fill(t, (float) level.timestep());
        for (int first = 0; first < n; first += mb) {
            int b = Math.min(mb, n - first);
            shape[0] = b;
            model.forward(out.view((long) first * per, shape), x.view((long) first * per, shape), t.view(0, b),
                    label >= 0 ? y.view(0, b) : null);
        }
    }

    @Override
    public void close() { ws.close(); }
}
