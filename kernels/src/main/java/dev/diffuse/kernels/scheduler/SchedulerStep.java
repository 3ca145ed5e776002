package dev.diffuse.kernels.scheduler;

import dev.diffuse.kernels.Checks;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.RowNoise;
import dev.diffuse.runtime.Tensor;

/**
 * The fused step of diffusers' DDPMScheduler / DDIMScheduler (spec §6.4-6.7) and the per-sample quantile of
 * dynamic thresholding. With host coefficients (see {@code scheduler.cl} for how DDPM and DDIM map onto them):
 * <pre>
 *   x0  = p x + q m;   x0 = clamp(x0, -s_b, s_b) / s_b  (THRESHOLD)  or  clamp(x0, lo, hi)  (CLIP)
 *   std = c  (FIXED)  |  sqrt(v)  (LEARNED)  |  exp((f ln_beta + (1 - f) ln_var) / 2), f = (v + 1) / 2  (LEARNED_RANGE)
 *   x'  = a x + b x0 + d m + std z,   z = normal i of stream {@code stream} under {@code seed} (only when noisy)
 * </pre>
 * v is the second half of each sample's model output (m has twice x's values per sample, as diffusers' learned
 * variances). absQuantile: s_b = clamp(quantile(|p x_b + q m_b|, ratio), 1, smax) with torch.quantile's linear
 * interpolation, exact (a radix select, deterministic). Forward only: samplers have no backward.
 */
public final class SchedulerStep {
    private SchedulerStep() {}

    public enum Clip { NONE, CLIP, THRESHOLD }

    public enum Variance { FIXED, LEARNED, LEARNED_RANGE }

    /** The host scalars of one step; lnBeta / lnVar only for LEARNED_RANGE. */
    public record Coefficients(double p, double q, Clip clip, double lo, double hi, double a, double b, double d,
                               double c, Variance variance, double lnBeta, double lnVar, boolean noisy) {
        public Coefficients {
            if (clip == Clip.CLIP && !(lo <= hi)) throw new IllegalArgumentException("scheduler_step: clip range [" + lo + ", " + hi + "] is empty");
        }
    }

    /** torch.quantile's interpolation for n values at ratio q: ranks {lo, hi} and weight, computed in float32. */
    public record Rank(int lo, int hi, float weight) {
        public static Rank of(double ratio, int n) {
            if (!(ratio >= 0 && ratio <= 1)) throw new IllegalArgumentException("quantile ratio must be in [0, 1], got " + ratio);
            float r = (float) ratio * (float) (n - 1);
            int lo = (int) r, hi = (int) Math.ceil(r);
            return new Rank(lo, Math.min(hi, n - 1), r - lo);
        }
    }

    /**
     * One step: out = x' and (when x0Out is not null) x0Out = the processed x0. x is (B, ...), m holds B rows of
     * numel(x)/B values (or twice that for learned variances); thr (B) is read only with THRESHOLD.
     */
    public static void step(Tensor out, Tensor x0Out, Tensor x, Tensor m, Tensor thr, Coefficients k, long seed, long stream) {
        step(out, x0Out, x, m, thr, k, Noise.seed(seed), stream);
    }

    /** {@link #step(Tensor, Tensor, Tensor, Tensor, Tensor, Coefficients, long, long)} with z keyed by {@code noise} (per row with a {@link RowNoise}). */
    public static void step(Tensor out, Tensor x0Out, Tensor x, Tensor m, Tensor thr, Coefficients k, Noise noise, long stream) {
        Checks.sameNumel("scheduler_step", out, x);
        if (x0Out != null) Checks.sameNumel("scheduler_step", x0Out, x);
        Checks.sameDevice("scheduler_step", out, x, m, x0Out, thr);
        int batch = x.dim(0), per = perSample("scheduler_step", x);
        int stride = mStride("scheduler_step", x, m, batch, per, k.variance() != Variance.FIXED);
        if (k.clip() == Clip.THRESHOLD && (thr == null || thr.numel() != batch))
            throw new IllegalArgumentException("scheduler_step: dynamic thresholding needs thr with one value per sample (" + batch
                    + "), got " + thr + "; compute it with absQuantile first");
        if (noise instanceof RowNoise r && r.rows() != batch)
            throw new IllegalArgumentException("scheduler_step: " + r.rows() + " row noise keys for a batch of " + batch + " samples; key one row per sample");
        switch (out.device()) {
            case JavaDevice j -> SchedulerStepJava.step(j, out, x0Out, x, m, thr, k, per, stride, noise, stream);
            case ClDevice c -> {
                switch (noise) {
                    case Noise.Shared s -> SchedulerStepCl.step(c, out, x0Out, x, m, thr, k, per, stride, s.seed(), stream);
                    case RowNoise r -> SchedulerRowsCl.step(c, out, x0Out, x, m, thr, k, per, stride, r, stream);
                }
            }
        }
    }

    /** thr (B) = clamp(quantile_ratio |p x_b + q m_b|, 1, smax) per sample b (diffusers' _threshold_sample). */
    public static void absQuantile(Tensor thr, Tensor x, Tensor m, double p, double q, double ratio, double smax) {
        Checks.sameDevice("abs_quantile", thr, x, m);
        int batch = x.dim(0), per = perSample("abs_quantile", x);
        int stride = mStride("abs_quantile", x, m, batch, per, m.numel() == 2 * x.numel());
        if (thr.numel() != batch) throw new IllegalArgumentException("abs_quantile: thr must hold one value per sample (" + batch + "), got " + thr);
        Rank r = Rank.of(ratio, per);
        switch (x.device()) {
            case JavaDevice j -> SchedulerStepJava.absQuantile(j, thr, x, m, (float) p, (float) q, per, stride, r, (float) smax);
            case ClDevice c -> SchedulerStepCl.absQuantile(c, thr, x, m, (float) p, (float) q, per, stride, r, (float) smax);
        }
    }

    private static int perSample(String op, Tensor x) {
        if (x.rank() < 1 || x.dim(0) < 1) throw new IllegalArgumentException(op + ": x must be (B, ...) with B >= 1, got " + x);
        long per = x.numel() / x.dim(0);
        if (per < 1 || per > Integer.MAX_VALUE) throw new IllegalArgumentException(op + ": " + per + " values per sample is outside 1.." + Integer.MAX_VALUE);
        return (int) per;
    }

    private static int mStride(String op, Tensor x, Tensor m, int batch, int per, boolean learned) {
        long want = learned ? 2 * x.numel() : x.numel();
        if (m.numel() != want)
            throw new IllegalArgumentException(op + ": the model output has " + m.numel() + " values, expected " + want
                    + (learned ? " (learned variances: twice x's channels, prediction then v per sample)" : " (same as x)"));
        return learned ? 2 * per : per;
    }
}
