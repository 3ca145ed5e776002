package dev.diffuse.samplers;

import dev.diffuse.runtime.Tensor;

/**
 * A denoiser that can also give its vector-Jacobian product with respect to x, as the likelihood computation needs
 * (the divergence of the probability-flow drift, estimated with Hutchinson's z^T J z). The batch rows are independent,
 * so the Jacobian is block diagonal and one call handles all rows.
 */
public interface DifferentiableDenoiser extends Denoiser {
    /** out = (d predict(x) / d x)^T v, same shape as x, enqueued without host read-back. */
    void vjp(Tensor out, Tensor x, NoiseLevel level, Tensor v);
}
