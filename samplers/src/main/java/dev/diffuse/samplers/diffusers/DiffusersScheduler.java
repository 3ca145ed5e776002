package dev.diffuse.samplers.diffusers;

import java.util.Arrays;

import dev.diffuse.kernels.scheduler.SchedulerStep;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.samplers.Denoiser;

/**
 * What DDPMScheduler and DDIMScheduler share (spec §6.1-6.3, 6.7): betas, alphas_cumprod, the timestep table, the
 * predicted-x0 coefficients and the clip / dynamic-threshold processing. Stateful like diffusers: call
 * {@link #setTimesteps} before stepping. Each {@code step} is one fused kernel launch (two with dynamic
 * thresholding: the exact per-sample quantile, then the step), no host read-back; {@code stepReference} is the same
 * math in double on host arrays, for tests. Host scalars are computed in double where diffusers uses float32 0-d
 * tensors; the difference is a few float32 ulps.
 */
public abstract sealed class DiffusersScheduler permits DdpmScheduler, DdimScheduler {
    protected final SchedulerConfig config;
    protected final double[] betas, alphasCumprod;
    protected int[] timesteps;
    protected int numInferenceSteps; // 0 until set_timesteps

    protected DiffusersScheduler(SchedulerConfig config) {
        this.config = config;
        this.betas = DiffusersBetas.betas(config);
        this.alphasCumprod = DiffusersBetas.alphasCumprod(betas);
        int n = config.numTrainTimesteps();
        this.timesteps = new int[n];
        for (int i = 0; i < n; i++) timesteps[i] = n - 1 - i;
    }

    public SchedulerConfig config() { return config; }

    public double[] betas() { return betas.clone(); }

    public double[] alphasCumprod() { return alphasCumprod.clone(); }

    public int[] timesteps() { return timesteps.clone(); }

    public int numInferenceSteps() { return numInferenceSteps; }

    /** init_noise_sigma: the prior is N(0, I). scale_model_input is the identity. */
    public double initNoiseSigma() { return 1; }

    /**
     * set_timesteps(S) per spec §6.3. Rejects the trailing spacing at an S whose numpy table has S + 1 entries (it
     * would end in t = -1, which torch indexes as alphas_cumprod[N-1] and feeds the model a negative timestep): use
     * a neighbouring S or another spacing.
     */
    public void setTimesteps(int steps) {
        int n = config.numTrainTimesteps();
        Timesteps.check(n, steps);
        int[] t = Timesteps.of(config.timestepSpacing(), n, steps, config.stepsOffset());
        if (t.length != steps)
            throw new IllegalArgumentException("timestep_spacing \"trailing\" with " + steps + " steps gives numpy's table of "
                    + t.length + " entries ending in -1 (N / (N / S) rounds above S); diffusers would then run a step at t = -1. "
                    + "Not replicated: pick a neighbouring step count (" + (steps - 1) + " or " + (steps + 1) + ") or another spacing");
        for (int v : t)
            if (v >= n) throw new IllegalArgumentException("timestep " + v + " (steps_offset " + config.stepsOffset()
                    + ") is >= num_train_timesteps " + n + "; lower steps_offset");
        timesteps = t;
        numInferenceSteps = steps;
    }

    /** alpha_bar at t (t in 0..N-1). */
    public double alphaBar(int t) {
        if (t < 0 || t >= alphasCumprod.length)
            throw new IllegalArgumentException("timestep " + t + " is outside 0.." + (alphasCumprod.length - 1));
        return alphasCumprod[t];
    }

    /** The denoiser output this scheduler's prediction_type expects. */
    public Denoiser.Prediction prediction() {
        return switch (config.predictionType()) {
            case EPSILON -> Denoiser.Prediction.EPSILON;
            case SAMPLE -> Denoiser.Prediction.X0;
            case V_PREDICTION -> Denoiser.Prediction.V;
        };
    }

    /** The noise level a denoiser is called at for timestep t: scale sqrt(a_t), sigma sqrt(1 - a_t). */
    public Denoiser.NoiseLevel level(int t) {
        double a = alphaBar(t);
        return new Denoiser.NoiseLevel(Math.sqrt(a), Math.sqrt(1 - a), t);
    }

    /** {p, q} with x0 = p x_t + q m for the prediction type (spec §6.4 step 4). */
    protected double[] x0Coefficients(double at) {
        double bt = 1 - at;
        return switch (config.predictionType()) {
            case EPSILON -> {
                if (at == 0) throw new IllegalArgumentException("alpha_bar_t = 0 (zero terminal SNR) leaves x0 undefined for an "
                        + "epsilon prediction; use prediction_type v_prediction or sample with rescale_betas_zero_snr");
                yield new double[]{1 / Math.sqrt(at), -Math.sqrt(bt) / Math.sqrt(at)};
            }
            case SAMPLE -> new double[]{0, 1};
            case V_PREDICTION -> new double[]{Math.sqrt(at), -Math.sqrt(bt)};
        };
    }

    protected SchedulerStep.Clip clipMode() {
        return config.thresholding() ? SchedulerStep.Clip.THRESHOLD : config.clipSample() ? SchedulerStep.Clip.CLIP : SchedulerStep.Clip.NONE;
    }

    /** Enqueues the per-sample dynamic threshold into thr (B) when thresholding is on. */
    protected void threshold(Tensor thr, Tensor x, Tensor m, double[] pq) {
        if (!config.thresholding()) return;
        if (thr == null) throw new IllegalArgumentException("thresholding is on: pass a scratch tensor thr with one value per sample");
        SchedulerStep.absQuantile(thr, x, m, pq[0], pq[1], config.dynamicThresholdingRatio(), config.sampleMaxValue());
    }

    /** Clip or dynamic-threshold x0 of one sample (double reference of §6.4 step 5 and §6.7). */
    protected void processX0Reference(double[] x0) {
        if (config.thresholding()) {
            double[] u = Arrays.stream(x0).map(Math::abs).sorted().toArray();
            double r = config.dynamicThresholdingRatio() * (u.length - 1);
            int lo = (int) Math.floor(r), hi = (int) Math.ceil(r);
            double s = Math.min(Math.max(u[lo] + (r - lo) * (u[hi] - u[lo]), 1), config.sampleMaxValue());
            for (int i = 0; i < x0.length; i++) x0[i] = Math.min(Math.max(x0[i], -s), s) / s;
        } else if (config.clipSample()) {
            double c = config.clipSampleRange();
            for (int i = 0; i < x0.length; i++) x0[i] = Math.min(Math.max(x0[i], -c), c);
        }
    }

    /** x0 per sample from the model output (double), before clipping. */
    protected double[][] x0Reference(double[] m, double[] x, int batch, double at) {
        double[] pq = x0Coefficients(at);
        int per = x.length / batch, stride = m.length / batch;
        double[][] x0 = new double[batch][per];
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < per; j++) x0[b][j] = pq[0] * x[b * per + j] + pq[1] * m[b * stride + j];
        return x0;
    }
}
