package dev.diffuse.models.train;

import dev.diffuse.samplers.Denoiser;

/**
 * A trained network as a sampler's denoiser (epsilon, flow velocity or consistency function, by how it was trained),
 * owning device staging buffers that {@link #close} frees.
 */
public interface NetworkDenoiser extends Denoiser, AutoCloseable {
    @Override
    void close();
}
