package dev.diffuse.samplers;

import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.RowNoise;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;

/**
 * A sampler: a schedule and a {@link Denoiser} turned into a sequence of fused kernel launches. Per-step scalars are
 * computed on the host in double; nothing is read back to the host inside the loop.
 *
 * <p>Noise streams under the run's {@link Noise} key: stream 0 draws the prior x_T, stream k + 1 the noise of step k
 * (correctors and second stages use streams above 2^32). A seed ({@code Noise.seed(s)}) keys element i of the batch
 * as normal i; a {@link RowNoise} keys each row on its own, so a row's samples do not depend on the rows batched with
 * it. Either way the same key gives the same samples on every device.
 */
public interface Sampler {
    /** The registry name, e.g. {@code "ode-heun"}. */
    String name();

    /** Denoiser evaluations one run makes (the cost unit samplers are compared at). */
    int evaluations();

    /** True when the sample is a deterministic function of the prior draw (ODE solvers, DDIM with eta = 0). */
    default boolean deterministic() { return false; }

    /**
     * True when each row's result depends only on that row (and its noise key); false when the update uses statistics
     * of the whole batch (the predictor-corrector samplers' Langevin step size), so that a row's samples change with
     * the batch around it.
     */
    default boolean rowIndependent() { return true; }

    /** Standard deviation of the prior this sampler starts from. */
    double priorStd();

    /** Draws the prior x_T ~ N(0, priorStd^2 I) into x from stream 0. */
    default void initialize(Tensor x, long seed) { initialize(x, Noise.seed(seed)); }

    /** Draws the prior x_T ~ N(0, priorStd^2 I) into x from stream 0 under {@code noise}. */
    default void initialize(Tensor x, Noise noise) {
        Rng.fillNormal(x, noise, 0, 0f, (float) priorStd());
    }

    /** Runs the sampler in place from the state in x (normally from {@link #initialize}); scratch comes from ws. */
    default void run(Denoiser model, Tensor x, long seed, Workspace ws) { run(model, x, Noise.seed(seed), ws); }

    /** Runs the sampler in place from the state in x, drawing every step's noise under {@code noise}. */
    void run(Denoiser model, Tensor x, Noise noise, Workspace ws);

    /** Allocates x of {@code shape} (N, ...) in ws, draws the prior and runs. The result stays on the device. */
    default Tensor sample(Denoiser model, Workspace ws, long seed, int... shape) {
        return sample(model, ws, Noise.seed(seed), shape);
    }

    /** {@link #sample(Denoiser, Workspace, long, int...)} with the noise keyed by {@code noise} (e.g. per row). */
    default Tensor sample(Denoiser model, Workspace ws, Noise noise, int... shape) {
        Tensor x = ws.tensor(shape);
        initialize(x, noise);
        run(model, x, noise, ws);
        return x;
    }
}
