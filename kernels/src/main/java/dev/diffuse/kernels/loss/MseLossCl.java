package dev.diffuse.kernels.loss;

import java.util.Map;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Tensor;

/**
 * OpenCL launcher for {@link MseLoss}. Tuning record: work-group {@value #WG}; pass 1 uses
 * {@code P = clamp(ceil(n / (WG * ITEMS)), 1, MAX_PARTS)} groups (a function of n only, so the summation tree and
 * hence the result are reproducible); pass 2 is one group.
 */
final class MseLossCl {
    static final String SRC = "dev/diffuse/kernels/loss.cl";
    static final int WG = 256, ITEMS = 8, MAX_PARTS = 1024;

    private MseLossCl() {}

    static int parts(int n) {
        return Math.max(1, Math.min(MAX_PARTS, (n + WG * ITEMS - 1) / (WG * ITEMS)));
    }

    private static Map<String, Object> defines(Tensor w) {
        return Map.of("WG", WG, "HAS_W", w == null ? 0 : 1);
    }

    static void forward(ClDevice c, Tensor out, Tensor pred, Tensor target, Tensor w, int per) {
        int n = (int) pred.numel(), p = parts(n);
        // Scratch for the partial sums; OpenCL frees it only after the queued kernels that use it have run.
        try (Tensor partial = Tensor.allocate(c, p)) {
            c.kernel(SRC, "mse_partial", defines(w)).launch(new long[]{(long) p * WG}, new long[]{WG},
                    partial, pred, target, w == null ? pred : w, n, per);
            c.kernel(SRC, "mse_final", defines(w)).launch(new long[]{WG}, new long[]{WG}, out, partial, p, n);
        }
    }

    static void backward(ClDevice c, Tensor dpred, Tensor pred, Tensor target, Tensor w, int per, float dL) {
        int n = (int) pred.numel();
        c.kernel(SRC, "mse_backward", defines(w)).launch1d(n, WG, dpred, pred, target, w == null ? pred : w, n, per, dL);
    }
}
