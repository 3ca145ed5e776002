package dev.diffuse.kernels.diffusion;

import dev.diffuse.kernels.Checks;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * The forward noising q(x_t | x_0) in one fused pass: {@code x_t = a_b * x0 + s_b * eps}, with per-sample
 * coefficients (for DDPM training, a_b = sqrt(alpha_bar[t_b]) and s_b = sqrt(1 - alpha_bar[t_b])).
 * Bytes moved: 12 per element with eps given; 8 with eps drawn in-kernel (12 when eps is also written out).
 */
public final class QSample {
    private QSample() {}

    /**
     * x_t = a[b] x0 + s[b] eps with eps given.
     *
     * @param out (B, ...) may alias x0
     * @param x0  (B, ...)
     * @param eps (B, ...)
     * @param a   (B) signal coefficients
     * @param s   (B) noise coefficients
     */
    public static void apply(Tensor out, Tensor x0, Tensor eps, Tensor a, Tensor s) {
        check(out, x0, a, s);
        Checks.sameNumel("q_sample", out, eps);
        Checks.sameDevice("q_sample", out, x0, eps, a, s);
        run(out, null, x0, eps, a, s, 0, 0, false);
    }

    /**
     * x_t = a[b] x0 + s[b] eps with eps drawn in the kernel: element i uses normal i of stream {@code stream} under
     * {@code seed} ({@link dev.diffuse.runtime.Philox}). If {@code epsOut} is not null the drawn noise is written to
     * it (the training target).
     */
    public static void applyDrawn(Tensor out, Tensor epsOut, Tensor x0, Tensor a, Tensor s, long seed, long stream) {
        check(out, x0, a, s);
        if (epsOut != null) Checks.sameNumel("q_sample", out, epsOut);
        Checks.sameDevice("q_sample", out, x0, a, s, epsOut);
        run(out, epsOut, x0, null, a, s, seed, stream, true);
    }

    private static void check(Tensor out, Tensor x0, Tensor a, Tensor s) {
        Checks.sameNumel("q_sample", out, x0);
        int batch = x0.dim(0);
        if (a.numel() != batch || s.numel() != batch)
            throw new IllegalArgumentException("q_sample: coefficients a and s must have one value per sample (" + batch
                    + "), got " + a + " and " + s);
    }

    private static void run(Tensor out, Tensor epsOut, Tensor x0, Tensor eps, Tensor a, Tensor s, long seed, long stream, boolean drawn) {
        int perSample = Math.toIntExact(x0.numel() / x0.dim(0));
        switch (out.device()) {
            case JavaDevice j -> DiffusionJava.qSample(j, out, epsOut, x0, eps, a, s, perSample, seed, stream, drawn);
            case ClDevice c -> DiffusionCl.qSample(c, out, epsOut, x0, eps, a, s, perSample, seed, stream, drawn);
        }
    }
}
