package dev.diffuse.kernels.optim;

import java.util.Map;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Tensor;

/**
 * OpenCL launcher for {@link Optim}. Tuning record: work-group {@value #WG}; the norm's pass 1 uses
 * {@code P = clamp(ceil(n / (WG * ITEMS)), 1, MAX_PARTS)} groups (a function of n only: reproducible), pass 2 one.
 */
final class OptimCl {
    static final String SRC = "dev/diffuse/kernels/optim.cl";
    static final int WG = 256, ITEMS = 16, MAX_PARTS = 1024;

    private OptimCl() {}

    static void adamw(ClDevice c, Tensor params, Tensor m, Tensor v, Tensor grads, Tensor clipScale, float gradScale,
                      Optim.Scalars s) {
        int n = (int) params.numel();
        c.kernel(SRC, "adamw", Map.of("WG", WG, "HAS_CLIP", clipScale == null ? 0 : 1)).launch1d(n, WG,
                params, m, v, grads, clipScale == null ? grads : clipScale, gradScale, s.decay(), s.beta1(), s.omb1(),
                s.beta2(), s.omb2(), s.stepSize(), s.bc2Sqrt(), s.eps(), n);
    }

    static void ema(ClDevice c, Tensor ema, Tensor params, float omd) {
        int n = (int) ema.numel();
        c.kernel(SRC, "ema", Map.of("WG", WG)).launch1d(n, WG, ema, params, omd, n);
    }

    static int parts(int n) {
        return Math.max(1, Math.min(MAX_PARTS, (n + WG * ITEMS - 1) / (WG * ITEMS)));
    }

    static void gradNorm(ClDevice c, Tensor normOut, Tensor clipOut, Tensor grads, float gradScale, float maxNorm) {
        int n = (int) grads.numel(), p = parts(n);
        Map<String, Object> defines = Map.of("WG", WG);
        // Scratch for the partial sums; OpenCL frees it only after the queued kernels that use it have run.
        try (Tensor partial = Tensor.allocate(c, p)) {
            c.kernel(SRC, "gradnorm_partial", defines).launch(new long[]{(long) p * WG}, new long[]{WG}, partial, grads, n);
            c.kernel(SRC, "gradnorm_final", defines).launch(new long[]{WG}, new long[]{WG},
                    normOut, clipOut, partial, p, gradScale, maxNorm);
        }
    }
}
