package dev.diffuse.kernels.diffusion;

import dev.diffuse.kernels.Checks;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.RowNoise;
import dev.diffuse.runtime.Tensor;

/**
 * The fused update every sampler is built from: one pass over x with host-computed scalars and in-kernel noise.
 * <pre>
 *   step:          x' = a x + b m + b2 m2 + c z
 *   stepClipX0:    x0 = clamp(p x + q m, lo, hi);   x' = a x + b x0 + d m + c z
 * </pre>
 * z is normal number i (element index) of stream {@code stream} under {@code seed}; it is not computed when c = 0.
 * The {@link Noise}-taking forms draw z as the key says: with a {@link RowNoise} element j of row r gets normal
 * first_r + j under seed_r (the pipeline's batches of several requests), with {@code Noise.seed(s)} the same as seed s.
 * Examples: Euler-Maruyama for the reverse VP SDE is {@code a = 1 + beta h / 2, b = beta h / sigma} on the epsilon
 * prediction m with {@code c = sqrt(beta h)}; DDPM's posterior mean from a clipped x0 is
 * {@code p = 1/sqrt(ab), q = -sqrt(1-ab)/sqrt(ab), a = c_t, b = c_0, d = 0}. Bytes moved: 12 per element (16 with m2).
 */
public final class SamplerStep {
    private SamplerStep() {}

    /** x' = a x + b m + c z. */
    public static void step(Tensor out, Tensor x, Tensor m, double a, double b, double c, long seed, long stream) {
        step(out, x, m, null, a, b, 0, c, Noise.seed(seed), stream);
    }

    /** x' = a x + b m + c z with z keyed by {@code noise}. */
    public static void step(Tensor out, Tensor x, Tensor m, double a, double b, double c, Noise noise, long stream) {
        step(out, x, m, null, a, b, 0, c, noise, stream);
    }

    /** x' = a x + b m + b2 m2 + c z ({@code m2} may be null when b2 = 0). */
    public static void step(Tensor out, Tensor x, Tensor m, Tensor m2, double a, double b, double b2, double c, long seed, long stream) {
        step(out, x, m, m2, a, b, b2, c, Noise.seed(seed), stream);
    }

    /** x' = a x + b m + b2 m2 + c z with z keyed by {@code noise} ({@code m2} may be null when b2 = 0). */
    public static void step(Tensor out, Tensor x, Tensor m, Tensor m2, double a, double b, double b2, double c, Noise noise, long stream) {
        Checks.sameNumel("sampler_step", out, x, m, m2);
        Checks.sameDevice("sampler_step", out, x, m, m2);
        if (m2 == null && b2 != 0) throw new IllegalArgumentException("sampler_step: b2 = " + b2 + " needs a second model output m2");
        noise.check("sampler_step", out.numel());
        switch (out.device()) {
            case JavaDevice j -> DiffusionJava.step(j, out, x, m, m2, (float) a, (float) b, (float) b2, (float) c, noise, stream);
            case ClDevice cl -> {
                switch (noise) {
                    case Noise.Shared s -> DiffusionCl.step(cl, out, x, m, m2, (float) a, (float) b, (float) b2, (float) c, s.seed(), stream);
                    case RowNoise r -> SamplerRowsCl.step(cl, out, x, m, m2, (float) a, (float) b, (float) b2, (float) c, r, stream);
                }
            }
        }
    }

    /** x0 = clamp(p x + q m, lo, hi); x' = a x + b x0 + d m + c z. */
    public static void stepClipX0(Tensor out, Tensor x, Tensor m, double p, double q, double lo, double hi,
                                  double a, double b, double d, double c, long seed, long stream) {
        stepClipX0(out, x, m, p, q, lo, hi, a, b, d, c, Noise.seed(seed), stream);
    }

    /** x0 = clamp(p x + q m, lo, hi); x' = a x + b x0 + d m + c z with z keyed by {@code noise}. */
    public static void stepClipX0(Tensor out, Tensor x, Tensor m, double p, double q, double lo, double hi,
                                  double a, double b, double d, double c, Noise noise, long stream) {
        Checks.sameNumel("sampler_step_clip_x0", out, x, m);
        Checks.sameDevice("sampler_step_clip_x0", out, x, m);
        if (!(lo <= hi)) throw new IllegalArgumentException("sampler_step_clip_x0: clip range [" + lo + ", " + hi + "] is empty");
        noise.check("sampler_step_clip_x0", out.numel());
        float[] f = {(float) p, (float) q, (float) lo, (float) hi, (float) a, (float) b, (float) d, (float) c};
        switch (out.device()) {
            case JavaDevice j -> DiffusionJava.stepClipX0(j, out, x, m, f, noise, stream);
            case ClDevice cl -> {
                switch (noise) {
                    case Noise.Shared s -> DiffusionCl.stepClipX0(cl, out, x, m, f, s.seed(), stream);
                    case RowNoise r -> SamplerRowsCl.stepClipX0(cl, out, x, m, f, r, stream);
                }
            }
        }
    }
}
