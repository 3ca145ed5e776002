package dev.diffuse.kernels.posterior;

import dev.diffuse.kernels.Checks;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * The VAE's diagonal Gaussian posterior q(z | x) = N(mean, exp(logvar)) (diffusers' DiagonalGaussianDistribution,
 * Kingma and Welling 2014), read from the encoder's moments (B, 2L, H, W): mean = channels 0..L-1, logvar = channels
 * L..2L-1, clamped to [-30, 20] as diffusers does. With lv = clamp(logvar), std = exp(lv / 2):
 * <pre>
 *   sample:   z = mean + std * eps,   eps = normal i of (seed, stream), i the index into z (drawn in the kernel)
 *   mode:     z = mean
 *   kl:       KL(q || N(0, I)) per element = (mean^2 + exp(lv) - 1 - lv) / 2      (summed: diffusers' kl())
 *   backward of L(z) + w sum(kl), given dz = dL/dz:
 *             dmean   = dz + w mean
 *             dlogvar = 1[-30 &lt;= logvar &lt;= 20] (dz eps std / 2 + w (exp(lv) - 1) / 2)
 *             (d z / d logvar = eps d std / d lv = eps std / 2; d kl / d lv = (exp(lv) - 1) / 2; the clamp passes the
 *             gradient on its closed range, as torch.clamp does, and stops it outside)
 * </pre>
 * The backward draws eps again from (seed, stream), so nothing but the moments is kept between the passes. Tensors are
 * contiguous; z and kl (B, L, H, W), moments and dMoments (B, 2L, H, W). Bytes moved: sample 12 per z element (+4
 * for kl), backward 20.
 */
public final class DiagonalGaussian {
    static final String SRC = "dev/diffuse/kernels/posterior.cl";
    /** diffusers clamps logvar to this range before exponentiating. */
    public static final float LOGVAR_MIN = -30f, LOGVAR_MAX = 20f;

    private DiagonalGaussian() {}

    /** z = mean + std eps (eps from (seed, stream)); kl (may be null) = the per-element KL terms. */
    public static void sample(Tensor z, Tensor kl, Tensor moments, long seed, long stream) {
        run(z, kl, moments, 1f, seed, stream);
    }

    /** z = mean (the posterior's mode, what encoding a data set for latent diffusion uses); kl may be null. */
    public static void mode(Tensor z, Tensor kl, Tensor moments) {
        run(z, kl, moments, 0f, 0, 0);
    }

    /**
     * dMoments = the gradient of L(z) + w sum(kl) w.r.t. the moments (written), for the sample drawn by
     * {@link #sample} with the same (seed, stream).
     */
    public static void backward(Tensor dMoments, Tensor dz, Tensor moments, float w, long seed, long stream) {
        long ls = check("posterior_backward", dz, moments);
        Checks.sameNumel("posterior_backward", moments, dMoments);
        if (!Float.isFinite(w)) throw new IllegalArgumentException("posterior_backward: KL weight must be finite, got " + w);
        switch (Checks.sameDevice("posterior_backward", dMoments, dz, moments)) {
            case JavaDevice j -> DiagonalGaussianJava.backward(j, dMoments, dz, moments, ls, w, seed, stream);
            case ClDevice c -> c.kernel(SRC, "posterior_backward").launch1d(dz.numel(), 256, dMoments, dz, moments, ls, dz.numel(), w,
                    seed, stream);
        }
    }

    private static void run(Tensor z, Tensor kl, Tensor moments, float noise, long seed, long stream) {
        long ls = check("posterior_sample", z, moments);
        Checks.sameNumel("posterior_sample", z, kl);
        switch (Checks.sameDevice("posterior_sample", z, kl, moments)) {
            case JavaDevice j -> DiagonalGaussianJava.sample(j, z, kl, moments, ls, noise, seed, stream);
            case ClDevice c -> c.kernel(SRC, "posterior_sample").launch1d(z.numel(), 256, z, kl == null ? z : kl, moments, ls, z.numel(),
                    noise, kl == null ? 0 : 1, seed, stream);
        }
    }

    /** z (B, L, ...) and moments (B, 2L, ...) with the same trailing shape; returns L * H * W. */
    private static long check(String op, Tensor z, Tensor moments) {
        int[] zs = z.shape(), ms = moments.shape();
        boolean ok = zs.length >= 2 && ms.length == zs.length && ms[0] == zs[0] && ms[1] == 2 * zs[1];
        for (int k = 2; ok && k < zs.length; k++) ok = ms[k] == zs[k];
        if (!ok)
            throw new IllegalArgumentException(op + ": moments " + moments + " must be (B, 2L, ...) for z " + z
                    + " (B, L, ...): mean and logvar stacked along the channels");
        if (z.numel() > Integer.MAX_VALUE) throw new IllegalArgumentException(op + ": " + z + " is too large for one launch; split the batch");
        return z.numel() / zs[0];
    }
}
