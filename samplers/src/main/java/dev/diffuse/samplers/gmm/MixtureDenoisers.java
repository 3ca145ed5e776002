package dev.diffuse.samplers.gmm;

import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.Samplers;
import dev.diffuse.samplers.guidance.ConditionalDenoiser;
import dev.diffuse.samplers.guidance.ConditionalMixtureDenoiser;

/**
 * The exact mixture denoiser a named sampler wants: the score form ({@link GaussianMixtureDenoiser}) in the
 * parameterisation the sampler prefers, except for flow matching, which starts at pure noise (scale 0) where the
 * score form of x0 divides by zero; there the posterior-mean form of {@link ConditionalMixtureDenoiser} is used.
 */
public final class MixtureDenoisers {
    private MixtureDenoisers() {}

    /** A closeable denoiser (it holds the mixture's parameters on the device). */
    public interface Closeable extends Denoiser, AutoCloseable {
        @Override void close();
    }

    public static Closeable forSampler(GaussianMixture m, Device device, String sampler) {
        Denoiser.Prediction p = Samplers.preferredPrediction(sampler);
        if (sampler.startsWith("flow-")) {
            ConditionalMixtureDenoiser c = new ConditionalMixtureDenoiser(m, device, p);
            Denoiser whole = c.fixed(ConditionalDenoiser.NULL_LABEL);
            return new Closeable() {
                @Override public Prediction prediction() { return whole.prediction(); }

                @Override public void predict(Tensor out, Tensor x, NoiseLevel level) { whole.predict(out, x, level); }

                @Override public void close() { c.close(); }
            };
        }
        GaussianMixtureDenoiser g = new GaussianMixtureDenoiser(m, device, p);
        return new Closeable() {
            @Override public Prediction prediction() { return g.prediction(); }

            @Override public void predict(Tensor out, Tensor x, NoiseLevel level) { g.predict(out, x, level); }

            @Override public void close() { g.close(); }
        };
    }
}
