package dev.diffuse.models.train;

import dev.diffuse.runtime.Tensor;

/**
 * A network the trainer can optimise: parameters and their gradients each live in one slab (so AdamW, EMA,
 * zeroing and the gradient norm are one kernel over one buffer), with named views for checkpoints.
 *
 * <p>Training step contract: {@code zeroGradients(); forward(out, x, t, labels); ...loss backward gives dOut...;
 * backward(dOut, null)}. {@code forward} keeps what {@code backward} needs (in the model's own workspace, sized at
 * construction for a maximum batch); {@code backward} accumulates (+=) into {@link #gradients()} and, if {@code dx}
 * is not null, writes dLoss/dx (the vector-Jacobian product with respect to the input).
 */
public interface TrainableModel extends Parameterized {
    /** Input shape of one sample, e.g. {1, 28, 28} or {2}. */
    int[] sampleShape();

    /** Number of classes the model is conditioned on (its class-embedding rows); 0 for an unconditional model. */
    default int numClasses() { return 0; }

    /** Largest batch the model's activation workspace was sized for. */
    int maxBatch();

    /**
     * out = model(x, t, labels).
     *
     * @param out         (B, ...) like x
     * @param x           (B, ...) noisy input
     * @param timesteps   (B) float values of t (DDPM indices 0..999 for the U-Net)
     * @param classLabels (B) integer class ids stored as floats, or null
     */
    void forward(Tensor out, Tensor x, Tensor timesteps, Tensor classLabels);

    /** Backward of the last forward: gradients += dL/dθ; dx = dL/dx when dx != null. */
    void backward(Tensor dOut, Tensor dx);
}
