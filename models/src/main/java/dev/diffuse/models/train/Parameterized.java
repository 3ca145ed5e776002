package dev.diffuse.models.train;

import java.util.Map;

import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Tensor;

/**
 * A network whose parameters and gradients each live in one slab (so AdamW, EMA, zeroing and the gradient norm are
 * one kernel over one buffer), with named views for checkpoints: what optimisers and checkpoint code need of a model,
 * whatever it computes ({@link TrainableModel} for denoisers, the VAE's {@code AutoencoderKL}).
 */
public interface Parameterized extends AutoCloseable {
    Device device();

    /** All parameters, one 1-D slab. */
    Tensor parameters();

    /** Gradients, same layout as {@link #parameters()}. */
    Tensor gradients();

    /** Named views into {@link #parameters()}, in slab order (diffusers names). */
    Map<String, Tensor> namedParameters();

    default void zeroGradients() { dev.diffuse.kernels.elementwise.Elementwise.fill(gradients(), 0f); }

    @Override
    void close();
}
