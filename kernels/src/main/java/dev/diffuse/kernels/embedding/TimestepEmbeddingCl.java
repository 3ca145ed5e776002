package dev.diffuse.kernels.embedding;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Tensor;

/** OpenCL launcher for {@link TimestepEmbedding}: one work-item per output element. */
final class TimestepEmbeddingCl {
    static final String SRC = "dev/diffuse/kernels/embedding.cl";
    static final int WG = 128;

    private TimestepEmbeddingCl() {}

    static void sinusoidal(ClDevice c, Tensor out, Tensor timesteps, boolean flip, float negLog, float denom, float scale) {
        int dim = out.dim(1), n = out.dim(0) * dim;
        c.kernel(SRC, "timestep_embedding").launch1d(n, WG, out, timesteps, dim, n, negLog, denom, scale, flip ? 1 : 0);
    }
}
