package dev.diffuse.models.vae;

import dev.diffuse.kernels.posterior.DiagonalGaussian;
import dev.diffuse.models.unet.Graph;
import dev.diffuse.models.unet.Graph.Act;
import dev.diffuse.models.unet.Node;
import dev.diffuse.runtime.Tensor;

/**
 * The VAE's bottleneck as a tape node: moments (B, 2L, h, w) -> z (B, L, h, w), a reparameterised sample
 * z = mean + exp(logvar / 2) eps (eps from (seed, stream), set per step) or the mode z = mean, with the per-element KL
 * terms kept for the loss ({@link DiagonalGaussian}). The backward adds the KL term's gradient, weighted by
 * {@link #klWeight}, to the one that flows back from z.
 */
final class PosteriorNode implements Node {
    final Act in, out, kl;
    long seed, stream;
    boolean sample = true;
    /** The loss is ... + klWeight * sum(kl); set before backward. */
    float klWeight;
    private boolean sampledLast;

    PosteriorNode(Graph g, Act moments) {
        this.in = moments;
        int[] s = moments.shape;
        int[] zs = {s[0] / 2, s[1], s[2]};
        this.out = g.act(zs);
        this.kl = g.stat(zs);
    }

    @Override public Act[] ins() { return new Act[]{in}; }

    @Override public Act out() { return out; }

    @Override
    public void forward(int b) {
        if (sample) DiagonalGaussian.sample(out.v(b), kl.v(b), in.v(b), seed, stream);
        else DiagonalGaussian.mode(out.v(b), kl.v(b), in.v(b));
        sampledLast = sample;
    }

    @Override
    public void backward(int b, Tensor[] d) {
        if (!sampledLast) throw new IllegalStateException("VAE backward after a forward with the posterior's mode; train with sampled latents");
        if (d[0] != null) DiagonalGaussian.backward(d[0], out.g(b), in.v(b), klWeight, seed, stream);
    }
}
