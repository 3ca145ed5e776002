package dev.diffuse.samplers.pipeline;

import dev.diffuse.samplers.Denoiser;

/**
 * Every parameterisation of a denoiser's output m is affine in (x_t, m) given the noise level, so samplers fold the
 * conversion into their update coefficients instead of spending a pass on it. With x_t = s x_0 + sigma eps:
 * <pre>
 *   EPSILON   eps = m
 *   SCORE     eps = -sigma m                                  (score = -eps / sigma)
 *   X0        eps = (x - s m) / sigma
 *   V         eps = (s m + sigma x) / (s^2 + sigma^2)         (v = s eps - sigma x_0)
 *   VELOCITY  eps = (x - s m) / (s + sigma)                   (flow matching: x = s x_0 + sigma eps, m = x_0 - eps)
 * </pre>
 * Returned as {cx, cm} with eps = cx x + cm m.
 */
public final class Epsilon {
    private Epsilon() {}

    public static double[] affine(Denoiser.Prediction p, double s, double sigma) {
        return switch (p) {
            case EPSILON -> new double[]{0, 1};
            case SCORE -> new double[]{0, -sigma};
            case X0 -> {
                if (sigma <= 0) throw new IllegalArgumentException("an x0-predicting denoiser gives no epsilon at sigma = 0");
                yield new double[]{1 / sigma, -s / sigma};
            }
            case V -> new double[]{sigma / (s * s + sigma * sigma), s / (s * s + sigma * sigma)};
            case VELOCITY -> new double[]{1 / (s + sigma), -s / (s + sigma)};
        };
    }
}
