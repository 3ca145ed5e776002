package dev.diffuse.samplers.guidance;

import dev.diffuse.runtime.Tensor;
import dev.diffuse.samplers.Denoiser;

/**
 * A class-conditional model: like {@link Denoiser}, but every row of x carries its own class label, and the label
 * {@link #NULL_LABEL} asks for the unconditional prediction (the "dropped" class of classifier-free guidance
 * training). A U-Net with a class embedding maps the null label to its extra "no class" row.
 */
public interface ConditionalDenoiser {
    /** The null (unconditional) label. */
    int NULL_LABEL = -1;

    Denoiser.Prediction prediction();

    /**
     * out (N, ...) = the prediction for each row of x under that row's label; labels (N) holds integer class ids as
     * floats on x's device (NULL_LABEL for unconditional rows). Enqueued with no host read-back.
     */
    void predict(Tensor out, Tensor x, Tensor labels, Denoiser.NoiseLevel level);
}
