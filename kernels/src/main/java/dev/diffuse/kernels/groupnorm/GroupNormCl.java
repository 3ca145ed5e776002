package dev.diffuse.kernels.groupnorm;

import java.util.Map;

import dev.diffuse.kernels.tuning.Tunings;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Tensor;

/**
 * OpenCL launcher for {@link GroupNorm}: one work-group per (b, g) of the next power of two >= the group's loads,
 * within [64, {@value #WG}] (so small groups do not idle most of a 256-wide group or pay for a deeper tree); float4
 * loads (VEC = 4) when H*W % 4 == 0 and every tensor's offset is float4-aligned, else scalar (VEC = 1). Those are
 * the defaults; {@link GroupNormTuning} lets the tuner pick WG and VEC per shape and device.
 */
final class GroupNormCl {
    static final String SRC = "dev/diffuse/kernels/groupnorm.cl";
    static final int WG = 256;

    private GroupNormCl() {}

    static int vec(int hw, Tensor... ts) {
        if (hw % 4 != 0) return 1;
        for (Tensor t : ts) if (t.offset() % 4 != 0) return 1;
        return 4;
    }

    static void forward(ClDevice c, String kernel, Tensor y, Tensor mean, Tensor rstd, Tensor x, Tensor gamma,
                        Tensor beta, int[] s, int groups, float eps) {
        Map<String, Integer> p = Tunings.choose(c, GroupNormTuning.FORWARD, GroupNormTuning.shape(s, groups, kernel.contains("silu")));
        forward(c, kernel, y, mean, rstd, x, gamma, beta, s, groups, eps, p);
    }

    /** Forward with explicit WG and VEC (VEC 4 drops to 1 when an offset is not a multiple of 4). */
    static void forward(ClDevice c, String kernel, Tensor y, Tensor mean, Tensor rstd, Tensor x, Tensor gamma,
                        Tensor beta, int[] s, int groups, float eps, Map<String, Integer> p) {
        int vec = Math.min(p.get("VEC"), vec(s[2], y, x)), wg = p.get("WG");
        c.kernel(SRC, kernel, Map.of("WG", wg, "VEC", vec))
                .launch(new long[]{(long) s[0] * groups * wg}, new long[]{wg}, y, mean, rstd, x, gamma, beta, s[1], s[2], groups, eps);
    }

    static void backward(ClDevice c, String kernel, Tensor dx, Tensor dgamma, Tensor dbeta, Tensor dy, Tensor x,
                         Tensor gamma, Tensor beta, Tensor mean, Tensor rstd, Tensor scratch, int[] s, int groups) {
        Map<String, Integer> p = Tunings.choose(c, GroupNormTuning.BACKWARD, GroupNormTuning.shape(s, groups, kernel.contains("silu")));
        backward(c, kernel, dx, dgamma, dbeta, dy, x, gamma, beta, mean, rstd, scratch, s, groups, p);
    }

    static void backward(ClDevice c, String kernel, Tensor dx, Tensor dgamma, Tensor dbeta, Tensor dy, Tensor x,
                         Tensor gamma, Tensor beta, Tensor mean, Tensor rstd, Tensor scratch, int[] s, int groups,
                         Map<String, Integer> p) {
        int B = s[0], C = s[1], HW = s[2], vec = Math.min(p.get("VEC"), vec(HW, dx, dy, x)), wg = p.get("WG");
        c.kernel(SRC, kernel, Map.of("WG", wg, "VEC", vec)).launch(new long[]{(long) B * groups * wg}, new long[]{wg},
                dx, scratch, dy, x, gamma, beta, mean, rstd, B, C, HW, groups, teamSize(HW / vec, C / groups, wg));
        c.kernel(SRC, "groupnorm_param_backward", Map.of("WG", WG)).launch1d(C, 64, dgamma, dbeta, scratch, B, C);
    }

    /**
     * Work-items per channel in the backward's per-channel reductions: enough to cover a channel's H*W/VEC loads,
     * but small enough that all Cg channels of a group are reduced at once (one tree of log2(team) levels).
     */
    static int teamSize(int perChannel, int channelsPerGroup, int wg) {
        int team = Math.min(pow2ceil(perChannel), wg);
        return Math.max(1, Math.min(team, wg / Math.min(pow2ceil(channelsPerGroup), wg)));
    }

    /** Work-group size for a group of {@code loads} loads: next power of two within [64, WG]. */
    static int workGroup(int loads) {
        return Math.max(64, Math.min(WG, pow2ceil(loads)));
    }

    static int pow2ceil(int n) {
        return n <= 1 ? 1 : Integer.highestOneBit(n - 1) << 1;
    }
}
