package dev.diffuse.kernels.diffusion;

import dev.diffuse.kernels.Checks;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.RowNoise;
import dev.diffuse.runtime.Tensor;

/**
 * Fused updates for higher-order and adaptive samplers, one pass each with host-computed scalars:
 * <pre>
 *   combine:          x' = a x + sum_k b_k m_k + c z          (0..4 tensors m_k; z drawn in the kernel)
 *                     aux = p x + q m_0                       (optional, same pass)
 *   langevinCorrect:  eps = 2 alpha r^2 ||z||^2 / ||score||^2,   x' = x + eps score + sqrt(2 eps) z,
 *                     score = gx x + gg g
 * </pre>
 * combine expresses RK4's final x + h/6 (k1 + 2 k2 + 2 k3 + k4) after the stage slopes are folded into the four
 * model outputs, and DPM-Solver++(2M)'s x' = a x + b m + b' x0_prev with aux = x0 = p x + q m keeping the current x0
 * prediction for the next step (aux may alias m_k: each element is read before it is written; out may alias x).
 * z is normal number i of stream {@code stream} under {@code seed}, as in {@link SamplerStep}; the {@link Noise}-taking
 * form draws it as the key says (a {@link RowNoise}: a key per row).
 * <p>langevinCorrect is Song et al.'s (2021) Langevin corrector with target signal-to-noise ratio r: ||z||^2 and
 * ||g||^2 come as 1-element tensors on the device (e.g. from {@code Reduce.sumSquares}), so the data-dependent step
 * size is formed in the kernel without a host read-back; ||score||^2 = gScale2 * ssG (gScale2 = gg^2 when gx = 0 and
 * ssG = ||g||^2). A zero score norm gives eps = 0 (no move).
 */
public final class SamplerCombine {
    /** The most model-output tensors one combine takes. */
    public static final int MAX_TERMS = 4;

    private SamplerCombine() {}

    /** x' = a x + sum_k b[k] m[k] + c z. */
    public static void combine(Tensor out, Tensor x, Tensor[] m, double a, double[] b, double c, long seed, long stream) {
        combine(out, null, x, m, a, b, 0, 0, c, seed, stream);
    }

    /** x' = a x + sum_k b[k] m[k] + c z with z keyed by {@code noise}. */
    public static void combine(Tensor out, Tensor x, Tensor[] m, double a, double[] b, double c, Noise noise, long stream) {
        combine(out, null, x, m, a, b, 0, 0, c, noise, stream);
    }

    /** x' = a x + sum_k b[k] m[k] + c z and, when aux is not null, aux = p x + q m[0]. */
    public static void combine(Tensor out, Tensor aux, Tensor x, Tensor[] m, double a, double[] b, double p, double q,
                               double c, long seed, long stream) {
        combine(out, aux, x, m, a, b, p, q, c, Noise.seed(seed), stream);
    }

    /** x' = a x + sum_k b[k] m[k] + c z (z keyed by {@code noise}) and, when aux is not null, aux = p x + q m[0]. */
    public static void combine(Tensor out, Tensor aux, Tensor x, Tensor[] m, double a, double[] b, double p, double q,
                               double c, Noise noise, long stream) {
        if (m.length > MAX_TERMS || m.length != b.length)
            throw new IllegalArgumentException("sampler_combine: takes 0.." + MAX_TERMS + " tensors with one coefficient each, got "
                    + m.length + " tensors and " + b.length + " coefficients");
        if (aux != null && m.length == 0)
            throw new IllegalArgumentException("sampler_combine: aux = p x + q m[0] needs at least one tensor m");
        Tensor[] rest = new Tensor[m.length + 2];
        rest[0] = x; rest[1] = aux;
        System.arraycopy(m, 0, rest, 2, m.length);
        Checks.sameNumel("sampler_combine", out, rest);
        Checks.sameDevice("sampler_combine", out, rest);
        noise.check("sampler_combine", out.numel());
        float[] f = new float[MAX_TERMS];
        for (int k = 0; k < b.length; k++) f[k] = (float) b[k];
        switch (out.device()) {
            case JavaDevice j -> SamplerCombineJava.combine(j, out, aux, x, m, (float) a, f, (float) p, (float) q, (float) c, noise, stream);
            case ClDevice cl -> {
                switch (noise) {
                    case Noise.Shared s -> SamplerCombineCl.combine(cl, out, aux, x, m, (float) a, f, (float) p, (float) q, (float) c, s.seed(), stream);
                    case RowNoise r -> SamplerRowsCl.combine(cl, out, aux, x, m, (float) a, f, (float) p, (float) q, (float) c, r, stream);
                }
            }
        }
    }

    /** x' = x + eps (gx x + gg g) + sqrt(2 eps) z with eps = twoAlphaR2 * ssZ / (gScale2 * ssG) (see the class doc). */
    public static void langevinCorrect(Tensor out, Tensor x, Tensor g, Tensor z, Tensor ssZ, Tensor ssG,
                                       double gx, double gg, double gScale2, double twoAlphaR2) {
        Checks.sameNumel("langevin_correct", out, x, g, z);
        Checks.sameDevice("langevin_correct", out, x, g, z, ssZ, ssG);
        if (ssZ.numel() != 1 || ssG.numel() != 1)
            throw new IllegalArgumentException("langevin_correct: the squared norms must be 1-element tensors (Reduce.sumSquares), got "
                    + ssZ + " and " + ssG);
        if (!(gScale2 > 0 && twoAlphaR2 >= 0))
            throw new IllegalArgumentException("langevin_correct: need gScale2 > 0 and 2 alpha r^2 >= 0, got " + gScale2 + ", " + twoAlphaR2);
        switch (out.device()) {
            case JavaDevice j -> SamplerCombineJava.langevin(j, out, x, g, z, ssZ, ssG, (float) gx, (float) gg, (float) gScale2, (float) twoAlphaR2);
            case ClDevice cl -> SamplerCombineCl.langevin(cl, out, x, g, z, ssZ, ssG, (float) gx, (float) gg, (float) gScale2, (float) twoAlphaR2);
        }
    }
}
