package dev.diffuse.samplers;

import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;

/**
 * A sampler: a schedule and a {@link Denoiser} turned into a sequence of fused kernel launches. Per-step scalars are
 * computed on the host in double; nothing is read back to the host inside the loop.
 *
 * <p>Noise streams under the run's seed: stream 0 draws the prior x_T, stream k + 1 the noise of step k (correctors
 * and second stages use streams above 2^32). So the same seed gives the same samples on every device.
 */
public interface Sampler {
    /** The registry name, e.g. {@code "ode-heun"}. */
    String name();

    /** Denoiser evaluations one run makes (the cost unit samplers are compared at). */
    int evaluations();

    /** True when the sample is a deterministic function of the prior draw (ODE solvers, DDIM with eta = 0). */
    default boolean deterministic() { return false; }

    /** Standard deviation of the prior this sampler starts from. */
    double priorStd();

    /** Draws the prior x_T ~ N(0, priorStd^2 I) into x from stream 0. */
    default void initialize(Tensor x, long seed) {
        Rng.fillNormal(x, seed, 0, 0, 0f, (float) priorStd());
    }

    /** Runs the sampler in place from the state in x (normally from {@link #initialize}); scratch comes from ws. */
    void run(Denoiser model, Tensor x, long seed, Workspace ws);

    /** Allocates x of {@code shape} (N, ...) in ws, draws the prior and runs. The result stays on the device. */
    default Tensor sample(Denoiser model, Workspace ws, long seed, int... shape) {
        Tensor x = ws.tensor(shape);
        initialize(x, seed);
        run(model, x, seed, ws);
        return x;
    }
}
