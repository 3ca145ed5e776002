package dev.diffuse.kernels.optim;

import dev.diffuse.kernels.Checks;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Optimizer ops over one parameter slab (all parameters back to back in one 1-D tensor, gradients, Adam moments
 * and the EMA copy in slabs of the same length), each a single kernel.
 *
 * <h2>AdamW (torch.optim.AdamW, amsgrad=False, maximize=False)</h2>
 * At step {@code t >= 1}, with host scalars computed in double ({@code bc1 = 1 - beta1^t}, {@code bc2 = 1 - beta2^t},
 * {@code stepSize = lr / bc1}, {@code bc2Sqrt = sqrt(bc2)}) and rounded to float, for every element:
 * <pre>
 *   g = (grad * gradScale) * clip          clip = clipScale[0] (from {@link #gradNorm}) or 1
 *   p = p * (1 - lr * weightDecay)         decoupled weight decay, applied first (param.mul_)
 *   m = m + (1 - beta1) * (g - m)          exp_avg.lerp_(g, 1 - beta1)  = beta1 m + (1 - beta1) g
 *   v = v * beta2 + (1 - beta2) * g * g    exp_avg_sq.mul_(beta2).addcmul_(g, g, value=1 - beta2)
 *   p = p - stepSize * (m / (sqrt(v) / bc2Sqrt + eps))   param.addcdiv_(m, denom, value=-stepSize)
 * </pre>
 * Bytes moved per element: reads p, g, m, v and writes p, m, v: 28.
 *
 * <h2>EMA</h2>
 * {@code ema = ema - (1 - decay) * (ema - p)}, i.e. {@code decay * ema + (1 - decay) * p}, in the form of
 * diffusers' {@code EMAModel.step}. 12 bytes per element.
 *
 * <h2>Gradient norm and clipping (torch.nn.utils.clip_grad_norm_)</h2>
 * {@code norm = |gradScale| * sqrt(sum_i grad_i^2)} (the L2 norm of the scaled gradient, summed in a fixed-order
 * two-pass tree: bit-reproducible), {@code clip = min(1, maxNorm / (norm + 1e-6))}, both written on the device
 * into 1-element tensors; {@link #adamw} reads {@code clip} directly, so a clipped step has no host read-back.
 * A non-finite gradient gives a NaN clip (as torch.clamp propagates NaN), which poisons the step visibly.
 * 4 bytes per element.
 */
public final class Optim {
    private Optim() {}

    /** AdamW hyper-parameters (PyTorch names and defaults: betas (0.9, 0.999), eps 1e-8, weight_decay 1e-2). */
    public record AdamWConfig(double lr, double beta1, double beta2, double eps, double weightDecay) {
        public AdamWConfig {
            if (!(lr >= 0) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps >= 0) || !(weightDecay >= 0))
                throw new IllegalArgumentException("AdamW: need lr >= 0, 0 <= beta1, beta2 < 1, eps >= 0, weightDecay >= 0; got "
                        + "lr=" + lr + " betas=(" + beta1 + ", " + beta2 + ") eps=" + eps + " weightDecay=" + weightDecay);
        }

        public static AdamWConfig torchDefaults(double lr) {
            return new AdamWConfig(lr, 0.9, 0.999, 1e-8, 1e-2);
        }

        /** The per-step float scalars of the kernel, derived in double as PyTorch does with Python floats. */
        Scalars scalars(int step) {
            if (step < 1) throw new IllegalArgumentException("AdamW: step counts from 1 (the first update), got " + step);
            double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
            return new Scalars((float) (1 - lr * weightDecay), (float) beta1, (float) (1 - beta1), (float) beta2,
                    (float) (1 - beta2), (float) (lr / bc1), (float) Math.sqrt(bc2), (float) eps);
        }
    }

    record Scalars(float decay, float beta1, float omb1, float beta2, float omb2, float stepSize, float bc2Sqrt, float eps) {}

    /**
     * One AdamW step {@code t} (1-based) over the slab, in place on {@code params}, {@code m}, {@code v}.
     * {@code clipScale} is a 1-element tensor (from {@link #gradNorm}) or null for no clipping.
     */
    public static void adamw(Tensor params, Tensor m, Tensor v, Tensor grads, Tensor clipScale, float gradScale,
                             AdamWConfig cfg, int step) {
        Checks.sameNumel("adamw", params, m, v, grads);
        if (clipScale != null) Checks.shape("adamw", "clipScale", clipScale, 1);
        Scalars s = cfg.scalars(step);
        switch (Checks.sameDevice("adamw", params, m, v, grads, clipScale)) {
            case JavaDevice j -> OptimJava.adamw(j, params, m, v, grads, clipScale, gradScale, s);
            case ClDevice c -> OptimCl.adamw(c, params, m, v, grads, clipScale, gradScale, s);
        }
    }

    /** {@code ema = ema - (1 - decay) (ema - params)}. */
    public static void ema(Tensor ema, Tensor params, double decay) {
        Checks.sameNumel("ema", ema, params);
        if (!(decay >= 0 && decay <= 1)) throw new IllegalArgumentException("ema: decay must be in [0, 1], got " + decay);
        float omd = (float) (1 - decay);
        switch (Checks.sameDevice("ema", ema, params)) {
            case JavaDevice j -> OptimJava.ema(j, ema, params, omd);
            case ClDevice c -> OptimCl.ema(c, ema, params, omd);
        }
    }

    /**
     * {@code normOut[0] = |gradScale| * ||grads||_2}, {@code clipOut[0] = min(1, maxNorm / (norm + 1e-6))}. Pass
     * {@code maxNorm = Float.POSITIVE_INFINITY} to measure without clipping (clip = 1).
     */
    public static void gradNorm(Tensor normOut, Tensor clipOut, Tensor grads, float gradScale, float maxNorm) {
        Checks.shape("grad norm", "normOut", normOut, 1);
        Checks.shape("grad norm", "clipOut", clipOut, 1);
        Checks.positive("grad norm", "number of gradient elements", Checks.intNumel("grad norm", grads));
        if (!(maxNorm > 0)) throw new IllegalArgumentException("grad norm: maxNorm must be > 0 (or +infinity for no clipping), got " + maxNorm);
        switch (Checks.sameDevice("grad norm", normOut, clipOut, grads)) {
            case JavaDevice j -> OptimJava.gradNorm(j, normOut, clipOut, grads, gradScale, maxNorm);
            case ClDevice c -> OptimCl.gradNorm(c, normOut, clipOut, grads, gradScale, maxNorm);
        }
    }

    /** Bytes moved per element by {@link #adamw} (read p, g, m, v; write p, m, v). */
    public static final int ADAMW_BYTES_PER_ELEMENT = 28;
    /** Bytes moved per element by {@link #ema} (read ema, p; write ema). */
    public static final int EMA_BYTES_PER_ELEMENT = 12;
    /** Bytes moved per element by {@link #gradNorm} (read g). */
    public static final int GRADNORM_BYTES_PER_ELEMENT = 4;
}
