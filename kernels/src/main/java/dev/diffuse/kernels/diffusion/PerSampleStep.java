package dev.diffuse.kernels.diffusion;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.diffuse.kernels.Checks;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * {@link SamplerStep#stepClipX0} with one set of coefficients per sample, for distillation, where every sample of a
 * batch moves between its own pair of noise levels:
 * <pre>
 *   x0 = clamp(p_b x + q_b m, lo, hi);   x' = a_b x + b_b x0 + d_b m          (b = the sample of the element)
 * </pre>
 * e.g. the teacher's DDIM step (eta 0, x0 clipped) of an epsilon prediction m from t to s: p = 1/sqrt(ab_t),
 * q = -sqrt(1 - ab_t)/sqrt(ab_t), a = 0, b = sqrt(ab_s), d = sqrt(1 - ab_s). No noise, no backward (the teacher's side
 * of distillation is never differentiated). Coefficients are a (5, B) tensor: rows a, b, d, p, q. Bytes moved: 12 per
 * element.
 */
public final class PerSampleStep {
    static final String SRC = "dev/diffuse/kernels/per_sample_step.cl";
    /** Rows of the coefficient tensor. */
    public static final int A = 0, B = 1, D = 2, P = 3, Q = 4, ROWS = 5;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private PerSampleStep() {}

    /** out = a_b x + b_b clamp(p_b x + q_b m, lo, hi) + d_b m for x, m, out (B, ...) and coefficients (5, B). */
    public static void clipX0(Tensor out, Tensor x, Tensor m, Tensor coef, float lo, float hi) {
        Checks.sameNumel("per_sample_step", out, x, m);
        int batch = x.dim(0);
        if (coef.numel() != (long) ROWS * batch)
            throw new IllegalArgumentException("per_sample_step: coefficients must be (5, " + batch + "): rows a, b, d, p, q per sample, got " + coef);
        if (!(lo <= hi)) throw new IllegalArgumentException("per_sample_step: clip range [" + lo + ", " + hi + "] is empty");
        if (x.numel() > Integer.MAX_VALUE) throw new IllegalArgumentException("per_sample_step: " + x + " is too large for one launch");
        int per = Math.toIntExact(x.numel() / batch);
        switch (Checks.sameDevice("per_sample_step", out, x, m, coef)) {
            case JavaDevice j -> java(j, out, x, m, coef, batch, per, lo, hi);
            case ClDevice c -> c.kernel(SRC, "per_sample_step_clip_x0").launch1d(x.numel(), 256, out, x, m, coef, batch, per, x.numel(), lo, hi);
        }
    }

    /** The Java device: the same float formula, in fixed chunks. */
    private static void java(JavaDevice d, Tensor out, Tensor x, Tensor m, Tensor coef, int batch, int per, float lo, float hi) {
        MemorySegment o = out.segment(), xs = x.segment(), ms = m.segment(), cs = coef.segment();
        long n = x.numel();
        int chunk = 1 << 14;
        d.parallelFor((int) ((n + chunk - 1) / chunk), ch -> {
            long to = Math.min(n, (long) (ch + 1) * chunk);
            for (long i = (long) ch * chunk; i < to; i++) {
                int b = (int) (i / per);
                float a = cs.getAtIndex(F, b), bb = cs.getAtIndex(F, batch + b), dd = cs.getAtIndex(F, 2L * batch + b),
                        p = cs.getAtIndex(F, 3L * batch + b), q = cs.getAtIndex(F, 4L * batch + b);
                float xi = xs.getAtIndex(F, i), mi = ms.getAtIndex(F, i);
                float x0 = Math.min(hi, Math.max(lo, p * xi + q * mi));
                o.setAtIndex(F, i, a * xi + bb * x0 + dd * mi);
            }
        });
    }
}
