package dev.diffuse.models.train;

import dev.diffuse.kernels.elementwise.Elementwise;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.guidance.ConditionalDenoiser;

/**
 * A network trained with {@link TrainConfig.Objective#FLOW} as a {@link Prediction#VELOCITY} denoiser for the flow
 * samplers ("flow-euler", "flow-heun"): those call it at NoiseLevel(t, 1 - t, timestep = t) with t the flow time
 * (0 noise, 1 data), and the network is evaluated at timestep {@link TrainConfig#FLOW_TIME_SCALE} * t, the mapping the
 * trainer used. Rows are evaluated in chunks of at most the model's maxBatch; optional class label for all rows, or (as
 * a {@link ConditionalDenoiser}) a label per row. Sample
 * with the EMA weights ({@link Trainer#withEmaWeights}). No host read-back.
 */
public final class FlowModelDenoiser implements NetworkDenoiser, ConditionalDenoiser {
    private final TrainableModel model;
    private final Workspace ws;
    private final Tensor t, y;
    /** Rows past the first chunk go through aligned staging buffers (a view at an arbitrary row is no kernel argument). */
    private final Chunks chunks;
    private int label = -1;

    public FlowModelDenoiser(TrainableModel model) {
        this.model = model;
        this.ws = new Workspace(model.device(), "flow model denoiser", 8L * model.maxBatch() + 8192);
        this.t = ws.tensor(model.maxBatch());
        this.y = ws.tensor(model.maxBatch());
        long per = Tensor.numel(model.sampleShape());
        this.chunks = new Chunks(model.device(), model.maxBatch(), per, per);
    }

    /** Condition every row on class {@code k}; -1 (default) for none. */
    public synchronized FlowModelDenoiser classLabel(int k) {
        if (k < -1) throw new IllegalArgumentException("class label must be >= 0, or -1 for unconditional, got " + k);
        this.label = k;
        if (k >= 0) Elementwise.fill(y, k);
        return this;
    }

    @Override public Prediction prediction() { return Prediction.VELOCITY; }

    @Override
    public synchronized void predict(Tensor out, Tensor x, NoiseLevel level) {
        run(out, x, label >= 0 ? y : null, false, level);
    }

    /** The velocity with a class label per row: labels (N) holds the model's class ids as floats on x's device. */
    @Override
    public synchronized void predict(Tensor out, Tensor x, Tensor labels, NoiseLevel level) {
        if (labels.numel() != x.dim(0))
            throw new IllegalArgumentException("flow model denoiser: labels " + labels + " must hold one class per row of x " + x);
        run(out, x, labels, true, level);
    }

    /** Chunks of maxBatch rows; labels per row (perRow) or one label repeated (the first maxBatch values of y). */
    private void run(Tensor out, Tensor x, Tensor labels, boolean perRow, NoiseLevel level) {
        if (out.numel() != x.numel()) throw new IllegalArgumentException("flow model denoiser: out " + out + " must match x " + x);
        double ft = level.timestep();
        if (!(ft >= 0 && ft <= 1))
            throw new IllegalArgumentException("flow model denoiser: flow time must be in [0, 1] (0 noise, 1 data), got " + ft
                    + "; sample with flow-euler or flow-heun");
        int[] row = model.sampleShape();
        Elementwise.fill(t, (float) (TrainConfig.FLOW_TIME_SCALE * ft));
        chunks.run(out, x, perRow ? labels : null, null, row, row, (o, xin, lab, unused, b) ->
                model.forward(o, xin, t.view(0, b), perRow ? lab : labels == null ? null : labels.view(0, b)));
    }

    @Override
    public void close() {
        chunks.close();
        ws.close();
    }
}
