package dev.diffuse.samplers.diffusers;

import dev.diffuse.kernels.scheduler.SchedulerStep;
import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.Tensor;

/**
 * diffusers' DDIMScheduler.step (spec §6.5), with prev = t - N // S ALWAYS (diffusers' formula, also for trailing /
 * linspace spacing and a steps_offset: replicated) and a_p = final_alpha_cumprod (1 if set_alpha_to_one, else a_0)
 * when prev < 0:
 * <pre>
 *   x0, e  = from m (epsilon: e = m; sample: e = (x - sqrt(a_t) x0) / sqrt(b_t); v: e = sqrt(a_t) m + sqrt(b_t) x)
 *   x0     = thresholded or clipped (e is NOT recomputed unless use_clipped_model_output)
 *   sigma  = eta sqrt((1 - a_p) / b_t (1 - a_t / a_p))
 *   x_p    = sqrt(a_p) x0 + sqrt(1 - a_p - sigma^2) e + sigma z        (z only when eta > 0)
 * </pre>
 * 1 - a_p - sigma^2 is clamped at 0 (it is >= 0 for eta <= 1 but can round below; diffusers would give NaN).
 */
public final class DdimScheduler extends DiffusersScheduler {
    public DdimScheduler(SchedulerConfig config) {
        super(config);
        if (config.varianceType().learned())
            throw new IllegalArgumentException("DDIMScheduler has no learned variances (variance_type " + config.varianceType().key()
                    + "); use DdpmScheduler, or drop the variance channels of the model output");
    }

    public double finalAlphaCumprod() { return config.setAlphaToOne() ? 1.0 : alphasCumprod[0]; }

    public int previousTimestep(int t) {
        if (numInferenceSteps == 0)
            throw new IllegalStateException("DDIM: call setTimesteps(steps) before step (diffusers raises here too)");
        return t - config.numTrainTimesteps() / numInferenceSteps;
    }

    private double alphaPrev(int prev) { return prev >= 0 ? alphaBar(prev) : finalAlphaCumprod(); }

    /** {ex, em}: e = ex x + em m before clipping. */
    private double[] epsCoefficients(double at) {
        double bt = 1 - at;
        return switch (config.predictionType()) {
            case EPSILON -> new double[]{0, 1};
            case SAMPLE -> new double[]{1 / Math.sqrt(bt), -Math.sqrt(at) / Math.sqrt(bt)};
            case V_PREDICTION -> new double[]{Math.sqrt(bt), Math.sqrt(at)};
        };
    }

    public double sigma(int t, double eta) {
        int prev = previousTimestep(t);
        double at = alphaBar(t), ap = alphaPrev(prev), bt = 1 - at;
        return eta * Math.sqrt((1 - ap) / bt * (1 - at / ap));
    }

    public SchedulerStep.Coefficients coefficients(int t, double eta, boolean useClippedModelOutput) {
        if (!(eta >= 0)) throw new IllegalArgumentException("DDIM: eta must be >= 0, got " + eta);
        int prev = previousTimestep(t);
        double at = alphaBar(t), ap = alphaPrev(prev), bt = 1 - at;
        double sigma = sigma(t, eta), dir = Math.sqrt(Math.max(0, 1 - ap - sigma * sigma));
        double[] pq = x0Coefficients(at), e = epsCoefficients(at);
        double a, b, d;
        if (useClippedModelOutput) { // e = (x - sqrt(a_t) x0) / sqrt(b_t) with the processed x0
            a = dir / Math.sqrt(bt);
            b = Math.sqrt(ap) - dir * Math.sqrt(at) / Math.sqrt(bt);
            d = 0;
        } else {
            a = dir * e[0];
            b = Math.sqrt(ap);
            d = dir * e[1];
        }
        double r = config.clipSampleRange();
        return new SchedulerStep.Coefficients(pq[0], pq[1], clipMode(), -r, r, a, b, d, sigma,
                SchedulerStep.Variance.FIXED, 0, 0, eta > 0);
    }

    /** out = x_prev, x0Out (nullable) = processed x0; thr is B values of scratch (thresholding only). */
    public void step(Tensor out, Tensor x0Out, Tensor m, int t, Tensor x, double eta, boolean useClippedModelOutput,
                     Tensor thr, long seed, long stream) {
        step(out, x0Out, m, t, x, eta, useClippedModelOutput, thr, Noise.seed(seed), stream);
    }

    /** The step with z keyed by {@code noise} (a key per sample with a {@link dev.diffuse.runtime.RowNoise}). */
    public void step(Tensor out, Tensor x0Out, Tensor m, int t, Tensor x, double eta, boolean useClippedModelOutput,
                     Tensor thr, Noise noise, long stream) {
        SchedulerStep.Coefficients k = coefficients(t, eta, useClippedModelOutput);
        threshold(thr, x, m, new double[]{k.p(), k.q()});
        SchedulerStep.step(out, x0Out, x, m, thr, k, noise, stream);
    }

    /** The same step in double from spec §6.5 on host arrays; z the noise (used when eta > 0). Returns {x_prev, x0}. */
    public double[][] stepReference(double[] m, int t, double[] x, double eta, boolean useClippedModelOutput, double[] z, int batch) {
        int prev = previousTimestep(t), per = x.length / batch;
        double at = alphaBar(t), ap = alphaPrev(prev), bt = 1 - at;
        double[][] x0 = x0Reference(m, x, batch, at);
        double var = (1 - ap) / bt * (1 - at / ap), sigma = eta * Math.sqrt(var);
        double[] out = new double[x.length], x0flat = new double[x.length];
        for (int b = 0; b < batch; b++) {
            double[] e = new double[per];
            for (int j = 0; j < per; j++) {
                int i = b * per + j;
                e[j] = switch (config.predictionType()) {
                    case EPSILON -> m[i];
                    case SAMPLE -> (x[i] - Math.sqrt(at) * x0[b][j]) / Math.sqrt(bt);
                    case V_PREDICTION -> Math.sqrt(at) * m[i] + Math.sqrt(bt) * x[i];
                };
            }
            processX0Reference(x0[b]);
            for (int j = 0; j < per; j++) {
                int i = b * per + j;
                if (useClippedModelOutput) e[j] = (x[i] - Math.sqrt(at) * x0[b][j]) / Math.sqrt(bt);
                x0flat[i] = x0[b][j];
                out[i] = Math.sqrt(ap) * x0[b][j] + Math.sqrt(Math.max(0, 1 - ap - sigma * sigma)) * e[j] + (eta > 0 ? sigma * z[i] : 0);
            }
        }
        return new double[][]{out, x0flat};
    }
}
