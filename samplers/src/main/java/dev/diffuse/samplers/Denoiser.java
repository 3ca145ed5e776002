package dev.diffuse.samplers;

import dev.diffuse.runtime.Tensor;

/**
 * What a sampler sees of a model: given x_t (N, ...) at one noise level, predict something about x_0.
 * Noising convention: x_t = scale * x_0 + sigma * eps (VP: scale = sqrt(alpha_bar), sigma = sqrt(1 - alpha_bar);
 * VE: scale = 1). Samplers convert between parameterisations with {@link Prediction}.
 */
public interface Denoiser {
    /** What {@link #predict} returns. */
    Prediction prediction();

    /**
     * Writes the prediction for every row of {@code x} into {@code out} (same shape), enqueued on x's device with no
     * host read-back.
     */
    void predict(Tensor out, Tensor x, NoiseLevel level);

    /** Parameterisations of a denoiser's output. */
    enum Prediction { EPSILON, SCORE, X0, V, VELOCITY }

    /**
     * One noise level: x_t = scale * x_0 + sigma * eps. {@code timestep} is what a network is conditioned on (a
     * DDPM index 0..999, or continuous t); analytic denoisers use scale and sigma only.
     */
    record NoiseLevel(double scale, double sigma, double timestep) {}
}
