package dev.diffuse.kernels.loss;

import dev.diffuse.kernels.Checks;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Mean-squared error with optional per-sample weights (e.g. min-SNR weighting), over pred and target of shape
 * (B, ...) with n elements, {@code per = n / B} per sample, and weights w (B) or null (all ones).
 *
 * <p>forward: {@code L = (1/n) sum_b w_b sum_i (pred[b,i] - target[b,i])^2}, written to a 1-element tensor
 * (deterministic: fixed-order two-pass tree reduction on OpenCL, fixed chunks summed in order on Java).
 * <p>backward: {@code dL/dpred[b,i] = 2 w_b (pred[b,i] - target[b,i]) / n}, so given the upstream scalar
 * gradient {@code dL} (1 when L is the final loss), {@code dpred = 2 w_b (pred - target) / n * dL} (written).
 * <p>Bytes moved: forward {@code 8n}, backward {@code 12n} (+ {@code 4B} for weights).
 */
public final class MseLoss {
    private MseLoss() {}

    /** {@code out[0] = L}; {@code w} may be null. */
    public static void forward(Tensor out, Tensor pred, Tensor target, Tensor w) {
        int per = check("mse forward", pred, target, w);
        Checks.shape("mse forward", "out", out, 1);
        switch (Checks.sameDevice("mse forward", out, pred, target, w)) {
            case JavaDevice j -> MseLossJava.forward(j, out, pred, target, w, per);
            case ClDevice c -> MseLossCl.forward(c, out, pred, target, w, per);
        }
    }

    /** {@code dpred = 2 w_b (pred - target) / n * dL}; {@code w} may be null. */
    public static void backward(Tensor dpred, Tensor pred, Tensor target, Tensor w, float dL) {
        int per = check("mse backward", pred, target, w);
        Checks.sameNumel("mse backward", pred, dpred);
        switch (Checks.sameDevice("mse backward", dpred, pred, target, w)) {
            case JavaDevice j -> MseLossJava.backward(j, dpred, pred, target, w, per, dL);
            case ClDevice c -> MseLossCl.backward(c, dpred, pred, target, w, per, dL);
        }
    }

    /** Backward of the final loss ({@code dL = 1}). */
    public static void backward(Tensor dpred, Tensor pred, Tensor target, Tensor w) {
        backward(dpred, pred, target, w, 1f);
    }

    /** Returns elements per sample after checking shapes. */
    private static int check(String op, Tensor pred, Tensor target, Tensor w) {
        Checks.sameNumel(op, pred, target);
        int n = Checks.intNumel(op, pred);
        Checks.positive(op, "number of elements", n);
        int b = pred.dim(0);
        if (w != null) Checks.shape(op, "w (one weight per sample)", w, b);
        return n / b;
    }
}
