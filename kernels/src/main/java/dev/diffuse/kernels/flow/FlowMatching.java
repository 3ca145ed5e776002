package dev.diffuse.kernels.flow;

import dev.diffuse.kernels.Checks;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * The flow-matching training pair for the linear path, one fused pass:
 * <pre>
 *   forward: x_t = (1 - t_b) eps + t_b x0,   target = x0 - eps
 * </pre>
 * so the loss is MseLoss(model(x_t, t), target) (a VELOCITY prediction). No backward: x0, eps and t are data, not
 * parameters (dL/dx_t is not needed to train the model). eps is given, or drawn in the kernel from (seed, stream)
 * (element i takes normal i, the same noise on every device).
 */
public final class FlowMatching {
    private FlowMatching() {}

    /** With eps given. */
    public static void pair(Tensor xt, Tensor target, Tensor x0, Tensor eps, Tensor t) {
        Checks.sameNumel("flow_pair", xt, target, x0, eps);
        run(xt, target, x0, eps, t, 0, 0);
    }

    /** With eps = normal i of stream {@code stream} under {@code seed}. */
    public static void pairDrawn(Tensor xt, Tensor target, Tensor x0, Tensor t, long seed, long stream) {
        Checks.sameNumel("flow_pair", xt, target, x0);
        run(xt, target, x0, null, t, seed, stream);
    }

    private static void run(Tensor xt, Tensor target, Tensor x0, Tensor eps, Tensor t, long seed, long stream) {
        if (x0.rank() < 1 || x0.dim(0) < 1) throw new IllegalArgumentException("flow_pair: x0 must be (B, ...), got " + x0);
        int batch = x0.dim(0);
        if (t.numel() != batch) throw new IllegalArgumentException("flow_pair: t must hold one time per sample (" + batch + "), got " + t);
        long per = x0.numel() / batch;
        if (per > Integer.MAX_VALUE) throw new IllegalArgumentException("flow_pair: " + per + " values per sample is too many");
        switch (Checks.sameDevice("flow_pair", xt, target, x0, t, eps)) {
            case JavaDevice j -> FlowMatchingJava.pair(j, xt, target, x0, eps, t, (int) per, seed, stream);
            case ClDevice c -> c.kernel("dev/diffuse/kernels/flow.cl", "flow_pair").launch1d((x0.numel() + 3) / 4, 256,
                    xt, target, x0, eps != null ? eps : x0, t, (int) per, x0.numel(), seed, stream, eps == null ? 1 : 0);
        }
    }
}
