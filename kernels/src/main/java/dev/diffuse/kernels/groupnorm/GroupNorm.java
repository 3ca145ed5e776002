package dev.diffuse.kernels.groupnorm;

import dev.diffuse.kernels.Checks;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * GroupNorm over x (B, C, H, W) with G groups of Cg = C/G contiguous channels and affine gamma, beta (C), plus the
 * deliberate fusion "GroupNorm + SiLU (2->1)" ({@code groupnorm_silu_forward}) used before every U-Net conv.
 *
 * <h2>Forward</h2>
 * For each (b, g), over the N = Cg*H*W elements of the group:
 * mu = mean(x), var = mean((x - mu)^2) (biased, as PyTorch), rstd = 1/sqrt(var + eps),
 * xhat = (x - mu)*rstd, z = gamma[c]*xhat + beta[c]; y = z (plain) or y = z*sigmoid(z) (fused).
 * mean and rstd (B, G) are saved for the backward.
 *
 * <h2>Backward (derivation)</h2>
 * Let dz = dL/dz (plain: dz = dy; fused: dz = dy*(s + z*s*(1-s)), s = sigmoid(z), with z recomputed from x, mu,
 * rstd, gamma, beta). Then dgamma[c] += sum_{b,hw} dz*xhat, dbeta[c] += sum_{b,hw} dz, and with dxhat = dz*gamma:
 * <pre>
 *   xhat_i = (x_i - mu)*rstd,  mu = (1/N) sum_j x_j,  rstd = (var + eps)^(-1/2),  var = (1/N) sum_j (x_j - mu)^2
 *   d mu/d x_i = 1/N;   d var/d x_i = (2/N)(x_i - mu)   (the sum_j (x_j - mu) = 0 term vanishes)
 *   d rstd/d x_i = -1/2 rstd^3 (2/N)(x_i - mu) = -(rstd^2/N) xhat_i
 *   d xhat_j/d x_i = rstd (delta_ij - 1/N) + (x_j - mu) d rstd/d x_i = rstd (delta_ij - 1/N - xhat_j xhat_i / N)
 *   so dx_i = sum_j dxhat_j d xhat_j/d x_i = rstd (dxhat_i - mean(dxhat) - xhat_i mean(dxhat*xhat))
 * </pre>
 * (means over the group). dx is WRITTEN, dgamma and dbeta are ACCUMULATED (+=). The parameter gradients are
 * deterministic without atomics: each (b, g) writes per-channel partials sum_hw dz*xhat and sum_hw dz to
 * {@code scratch} (2, B, C), then one pass per channel adds them over b in ascending order.
 *
 * <h2>Shapes</h2>
 * x, y, dy, dx (B, C, H, W); gamma, beta, dgamma, dbeta (C); mean, rstd (B, G); scratch (2, B, C) (overwritten;
 * take it from the step's {@code Workspace}, see {@link #scratchShape}). C must be a multiple of G.
 */
public final class GroupNorm {
    private GroupNorm() {}

    /** Shape of the {@code scratch} tensor {@link #backward} needs: (2, B, C). */
    public static int[] scratchShape(int batch, int channels) {
        return new int[]{2, batch, channels};
    }

    /** y = GroupNorm(x); saves mean, rstd (B, G). */
    public static void forward(Tensor y, Tensor mean, Tensor rstd, Tensor x, Tensor gamma, Tensor beta, int groups, float eps) {
        forward("groupnorm_forward", false, y, mean, rstd, x, gamma, beta, groups, eps);
    }

    /** GroupNorm + SiLU (2->1): y = silu(GroupNorm(x)); saves the same mean, rstd (B, G) as {@link #forward}. */
    public static void forwardSilu(Tensor y, Tensor mean, Tensor rstd, Tensor x, Tensor gamma, Tensor beta, int groups, float eps) {
        forward("groupnorm_silu_forward", true, y, mean, rstd, x, gamma, beta, groups, eps);
    }

    /**
     * Backward of {@link #forward}: forward y = gamma*xhat + beta; so dx = rstd*(dxhat - mean(dxhat) -
     * xhat*mean(dxhat*xhat)) with dxhat = dy*gamma (written), dgamma += sum dy*xhat, dbeta += sum dy.
     */
    public static void backward(Tensor dx, Tensor dgamma, Tensor dbeta, Tensor dy, Tensor x, Tensor gamma, Tensor beta,
                                Tensor mean, Tensor rstd, Tensor scratch, int groups) {
        backward("groupnorm_backward", false, dx, dgamma, dbeta, dy, x, gamma, beta, mean, rstd, scratch, groups);
    }

    /**
     * Backward of {@link #forwardSilu}: forward y = silu(z), z = gamma*xhat + beta; so dz = dy*(s + z*s*(1-s)) with
     * z recomputed from x, mean, rstd, then the GroupNorm backward of dz (dx written, dgamma/dbeta accumulated).
     */
    public static void backwardSilu(Tensor dx, Tensor dgamma, Tensor dbeta, Tensor dy, Tensor x, Tensor gamma, Tensor beta,
                                    Tensor mean, Tensor rstd, Tensor scratch, int groups) {
        backward("groupnorm_silu_backward", true, dx, dgamma, dbeta, dy, x, gamma, beta, mean, rstd, scratch, groups);
    }

    private static void forward(String op, boolean silu, Tensor y, Tensor mean, Tensor rstd, Tensor x, Tensor gamma,
                                Tensor beta, int groups, float eps) {
        int[] s = checkShapes(op, x, gamma, beta, mean, rstd, groups);
        Checks.shape(op, "y", y, x.shape());
        if (!(eps > 0f)) throw new IllegalArgumentException(op + ": eps must be > 0 (e.g. 1e-5 or 1e-6), got " + eps);
        switch (Checks.sameDevice(op, y, mean, rstd, x, gamma, beta)) {
            case JavaDevice j -> GroupNormVector.forward(j, silu, y, mean, rstd, x, gamma, beta, s, groups, eps);
            case ClDevice c -> GroupNormCl.forward(c, op, y, mean, rstd, x, gamma, beta, s, groups, eps);
        }
    }

    private static void backward(String op, boolean silu, Tensor dx, Tensor dgamma, Tensor dbeta, Tensor dy, Tensor x,
                                 Tensor gamma, Tensor beta, Tensor mean, Tensor rstd, Tensor scratch, int groups) {
        int[] s = checkShapes(op, x, gamma, beta, mean, rstd, groups);
        Checks.shape(op, "dx", dx, x.shape());
        Checks.shape(op, "dy", dy, x.shape());
        Checks.shape(op, "dgamma", dgamma, s[1]);
        Checks.shape(op, "dbeta", dbeta, s[1]);
        Checks.shape(op, "scratch", scratch, scratchShape(s[0], s[1]));
        switch (Checks.sameDevice(op, dx, dgamma, dbeta, dy, x, gamma, beta, mean, rstd, scratch)) {
            case JavaDevice j -> GroupNormVector.backward(j, silu, dx, dgamma, dbeta, dy, x, gamma, beta, mean, rstd, scratch, s, groups);
            case ClDevice c -> GroupNormCl.backward(c, op, dx, dgamma, dbeta, dy, x, gamma, beta, mean, rstd, scratch, s, groups);
        }
    }

    /** Validates x (B, C, H, W), C % G == 0, gamma/beta (C), mean/rstd (B, G); returns {B, C, H*W}. */
    static int[] checkShapes(String op, Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor rstd, int groups) {
        Checks.rank(op, "x", x, 4);
        Checks.positive(op, "groups", groups);
        int b = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        if (c % groups != 0)
            throw new IllegalArgumentException(op + ": channels C = " + c + " is not a multiple of groups G = " + groups
                    + "; GroupNorm splits C into G equal groups, so choose G dividing C (e.g. G = 32 for C = 128)");
        Checks.shape(op, "gamma", gamma, c);
        Checks.shape(op, "beta", beta, c);
        Checks.shape(op, "mean", mean, b, groups);
        Checks.shape(op, "rstd", rstd, b, groups);
        Checks.intNumel(op, x);
        return new int[]{b, c, hw};
    }
}
