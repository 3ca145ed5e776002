package dev.diffuse.kernels.groupnorm;

import java.util.Map;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Tensor;

/**
 * OpenCL launcher for {@link GroupNorm}: one work-group of {@value #WG} per (b, g); float4 loads (VEC = 4) when
 * H*W % 4 == 0 and every tensor's offset is float4-aligned, else scalar (VEC = 1).
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
        int vec = vec(s[2], y, x);
        c.kernel(SRC, kernel, Map.of("WG", WG, "VEC", vec))
                .launch(new long[]{(long) s[0] * groups * WG}, new long[]{WG}, y, mean, rstd, x, gamma, beta, s[1], s[2], groups, eps);
    }

    static void backward(ClDevice c, String kernel, Tensor dx, Tensor dgamma, Tensor dbeta, Tensor dy, Tensor x,
                         Tensor gamma, Tensor beta, Tensor mean, Tensor rstd, Tensor scratch, int[] s, int groups) {
        int B = s[0], C = s[1], HW = s[2], vec = vec(HW, dx, dy, x);
        c.kernel(SRC, kernel, Map.of("WG", WG, "VEC", vec)).launch(new long[]{(long) B * groups * WG}, new long[]{WG},
                dx, scratch, dy, x, gamma, beta, mean, rstd, B, C, HW, groups, teamSize(HW / vec, C / groups));
        c.kernel(SRC, "groupnorm_param_backward", Map.of("WG", WG)).launch1d(C, 64, dgamma, dbeta, scratch, B, C);
    }

    /**
     * Work-items per channel in the backward's per-channel reductions: enough to cover a channel's H*W/VEC loads,
     * but small enough that all Cg channels of a group are reduced at once (one tree of log2(team) levels).
     */
    static int teamSize(int perChannel, int channelsPerGroup) {
        int team = Math.min(pow2ceil(perChannel), WG);
        return Math.max(1, Math.min(team, WG / Math.min(pow2ceil(channelsPerGroup), WG)));
    }

    static int pow2ceil(int n) {
        return n <= 1 ? 1 : Integer.highestOneBit(n - 1) << 1;
    }
}
