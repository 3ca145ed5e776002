package dev.diffuse.samplers;

import dev.diffuse.runtime.Tensor;

/**
 * Test denoiser for data N(mu, diag(v)) in d dimensions, exact at every noise level: x_t ~ N(s mu, s^2 v + sigma^2),
 * so score = -(x - s mu) / (s^2 v + sigma^2), eps = -sigma score, x0 = E[x0 | x_t] = mu + s v (x - s mu) / (s^2 v + sigma^2).
 * It computes on the host (a read-back per call): fine for tests, not a pipeline.
 */
public record ExactGaussianDenoiser(double[] mu, double[] v, Prediction prediction) implements Denoiser {
    @Override
    public void predict(Tensor out, Tensor x, NoiseLevel level) {
        float[] xs = x.toArray(), o = new float[xs.length];
        int d = mu.length;
        double s = level.scale(), sg = level.sigma();
        for (int i = 0; i < xs.length; i++) {
            int j = i % d;
            double var = s * s * v[j] + sg * sg, r = xs[i] - s * mu[j];
            double score = -r / var;
            double x0 = mu[j] + s * v[j] * r / var;
            double eps = -sg * score;
            o[i] = (float) switch (prediction) {
                case SCORE -> score;
                case EPSILON -> eps;
                case X0 -> x0;
                case V -> s * eps - sg * x0;
                case VELOCITY -> x0 - eps;
            };
        }
        out.upload(o);
    }
}
