package dev.diffuse.kernels.guidance;

import dev.diffuse.kernels.Checks;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Classifier-free guidance on the output of one batched forward over 2B rows (B conditional, then the same B rows
 * unconditional), per sample b with c = m[b], u = m[B + b]:
 * <pre>
 *   combine:  out_b = (1 + w) c - w u                                        (w = guidance_scale - 1 in diffusers)
 *   rescale:  g = (1 + w) c - w u;  out_b = (phi std(c) / std(g) + 1 - phi) g  (Lin et al. 2024, diffusers'
 *             rescale_noise_cfg with guidance_rescale = phi; std over the sample's n values; std(g) = 0 keeps g)
 * </pre>
 * Forward only (sampling). The per-sample std is computed on the device with fixed-order reductions.
 */
public final class Guidance {
    private Guidance() {}

    /** out (B, ...) = (1 + w) m[:B] - w m[B:], m (2B, ...). */
    public static void combine(Tensor out, Tensor m, double w) {
        check("cfg_combine", out, m);
        switch (Checks.sameDevice("cfg_combine", out, m)) {
            case JavaDevice j -> GuidanceJava.combine(j, out, m, (float) w);
            case ClDevice c -> GuidanceCl.combine(c, out, m, (float) w);
        }
    }

    /** out (B, ...) = the guided prediction rescaled toward the conditional one's per-sample std, blend phi in [0, 1]. */
    public static void rescale(Tensor out, Tensor m, double w, double phi) {
        check("cfg_rescale", out, m);
        if (!(phi >= 0 && phi <= 1)) throw new IllegalArgumentException("cfg_rescale: phi (guidance_rescale) must be in [0, 1], got " + phi);
        int batch = out.dim(0);
        long n = out.numel() / batch;
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("cfg_rescale: " + n + " values per sample is too many");
        switch (Checks.sameDevice("cfg_rescale", out, m)) {
            case JavaDevice j -> GuidanceJava.rescale(j, out, m, (float) w, (float) phi, (int) n, batch);
            case ClDevice c -> GuidanceCl.rescale(c, out, m, (float) w, (float) phi, (int) n, batch);
        }
    }

    private static void check(String op, Tensor out, Tensor m) {
        if (out.rank() < 1 || out.dim(0) < 1) throw new IllegalArgumentException(op + ": out must be (B, ...) with B >= 1, got " + out);
        if (m.numel() != 2 * out.numel() || m.dim(0) != 2 * out.dim(0))
            throw new IllegalArgumentException(op + ": the model output must hold 2B rows (B conditional, then B unconditional) of out's "
                    + "row size; out is " + out + ", model output " + m);
    }
}
