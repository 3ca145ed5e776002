package dev.diffuse.samplers.diffusers;

import dev.diffuse.kernels.scheduler.SchedulerStep;
import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.Tensor;

/**
 * diffusers' DDPMScheduler.step (spec §6.4) for timestep t with predecessor p (a_p = 1 when p < 0):
 * <pre>
 *   b_t = 1 - a_t, b_p = 1 - a_p, alpha = a_t / a_p, beta = 1 - alpha      (beta from the cumprods, not betas[t])
 *   x0  = predicted from m (epsilon / sample / v_prediction), then dynamic threshold or clip
 *   mu  = sqrt(a_p) beta / b_t x0 + sqrt(alpha) b_p / b_t x_t
 *   var_small = max(b_p / b_t beta, 1e-20)
 *   std = sqrt(var_small) (fixed_small) | exp(ln(var_small) / 2) (fixed_small_log) | sqrt(beta) (fixed_large)
 *       | sqrt(v) (learned) | exp((f ln beta + (1 - f) ln var_small) / 2), f = (v + 1) / 2 (learned_range)
 *   x_p = mu + std z   if the timestep value t > 0, else mu
 * </pre>
 * For learned variances the model output has twice x's values per sample (prediction, then v), as diffusers splits it.
 */
public final class DdpmScheduler extends DiffusersScheduler {
    private boolean custom;

    public DdpmScheduler(SchedulerConfig config) { super(config); }

    /** DDPM's custom timesteps: strictly descending, first below N. */
    public void setTimesteps(int[] custom) {
        int n = config.numTrainTimesteps();
        if (custom.length == 0) throw new IllegalArgumentException("custom timesteps must not be empty");
        if (custom[0] >= n) throw new IllegalArgumentException("custom timesteps must start below num_train_timesteps " + n + ", got " + custom[0]);
        for (int i = 1; i < custom.length; i++)
            if (custom[i] >= custom[i - 1]) throw new IllegalArgumentException("custom timesteps must be strictly descending; entry " + i
                    + " (" + custom[i] + ") follows " + custom[i - 1]);
        if (custom[custom.length - 1] < 0) throw new IllegalArgumentException("custom timesteps must be >= 0, got " + custom[custom.length - 1]);
        timesteps = custom.clone();
        numInferenceSteps = custom.length;
        this.custom = true;
    }

    @Override
    public void setTimesteps(int steps) {
        super.setTimesteps(steps);
        custom = false;
    }

    /** The timestep after t: the next table entry (-1 after the last) once set_timesteps ran, else t - 1. */
    public int previousTimestep(int t) {
        if (!custom && numInferenceSteps == 0) return t - 1;
        for (int i = 0; i < timesteps.length; i++)
            if (timesteps[i] == t) return i + 1 < timesteps.length ? timesteps[i + 1] : -1;
        throw new IllegalArgumentException("timestep " + t + " is not in the scheduler's table " + java.util.Arrays.toString(timesteps));
    }

    /** The step's host scalars (coefficients of the fused kernel). */
    public SchedulerStep.Coefficients coefficients(int t) {
        int prev = previousTimestep(t);
        double at = alphaBar(t), ap = prev >= 0 ? alphaBar(prev) : 1, bt = 1 - at, bp = 1 - ap;
        double alpha = at / ap, beta = 1 - alpha;
        double c0 = Math.sqrt(ap) * beta / bt, ct = Math.sqrt(alpha) * bp / bt;
        double varSmall = Math.max(bp / bt * beta, 1e-20);
        double std = switch (config.varianceType()) {
            case FIXED_SMALL -> Math.sqrt(varSmall);
            case FIXED_SMALL_LOG -> Math.exp(0.5 * Math.log(varSmall));
            case FIXED_LARGE -> Math.sqrt(beta);
            case LEARNED, LEARNED_RANGE -> 0;
        };
        SchedulerStep.Variance var = switch (config.varianceType()) {
            case LEARNED -> SchedulerStep.Variance.LEARNED;
            case LEARNED_RANGE -> SchedulerStep.Variance.LEARNED_RANGE;
            default -> SchedulerStep.Variance.FIXED;
        };
        double[] pq = x0Coefficients(at);
        double r = config.clipSampleRange();
        return new SchedulerStep.Coefficients(pq[0], pq[1], clipMode(), -r, r, ct, c0, 0, std, var,
                Math.log(beta), Math.log(varSmall), t > 0);
    }

    /**
     * out = x_{prev}; x0Out (nullable) = the processed x0. m is the model output for x at t; thr (B values, nullable
     * unless thresholding) is scratch; z is normal i of stream {@code stream} under {@code seed}.
     */
    public void step(Tensor out, Tensor x0Out, Tensor m, int t, Tensor x, Tensor thr, long seed, long stream) {
        step(out, x0Out, m, t, x, thr, Noise.seed(seed), stream);
    }

    /** The step with z keyed by {@code noise} (a key per sample with a {@link dev.diffuse.runtime.RowNoise}). */
    public void step(Tensor out, Tensor x0Out, Tensor m, int t, Tensor x, Tensor thr, Noise noise, long stream) {
        SchedulerStep.Coefficients k = coefficients(t);
        threshold(thr, x, m, new double[]{k.p(), k.q()});
        SchedulerStep.step(out, x0Out, x, m, thr, k, noise, stream);
    }

    /**
     * The same step in double from spec §6.4 on host arrays (batch samples of x.length / batch values; m has twice
     * that per sample for learned variances); z the noise. Returns {x_prev, x0}.
     */
    public double[][] stepReference(double[] m, int t, double[] x, double[] z, int batch) {
        int prev = previousTimestep(t), per = x.length / batch, stride = m.length / batch;
        double at = alphaBar(t), ap = prev >= 0 ? alphaBar(prev) : 1, bt = 1 - at, bp = 1 - ap;
        double alpha = at / ap, beta = 1 - alpha;
        double[][] x0 = x0Reference(m, x, batch, at);
        double[] out = new double[x.length], x0flat = new double[x.length];
        for (int b = 0; b < batch; b++) {
            processX0Reference(x0[b]);
            for (int j = 0; j < per; j++) {
                int i = b * per + j;
                x0flat[i] = x0[b][j];
                double mu = Math.sqrt(ap) * beta / bt * x0[b][j] + Math.sqrt(alpha) * bp / bt * x[i];
                double varSmall = Math.max(bp / bt * beta, 1e-20);
                double std = switch (config.varianceType()) {
                    case FIXED_SMALL, FIXED_SMALL_LOG -> Math.sqrt(varSmall);
                    case FIXED_LARGE -> Math.sqrt(beta);
                    case LEARNED -> Math.sqrt(m[b * stride + per + j]);
                    case LEARNED_RANGE -> {
                        double f = (m[b * stride + per + j] + 1) / 2;
                        yield Math.exp(0.5 * (f * Math.log(beta) + (1 - f) * Math.log(varSmall)));
                    }
                };
                out[i] = t > 0 ? mu + std * z[i] : mu;
            }
        }
        return new double[][]{out, x0flat};
    }
}
