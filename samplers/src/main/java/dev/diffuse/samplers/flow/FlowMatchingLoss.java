package dev.diffuse.samplers.flow;

import dev.diffuse.kernels.flow.FlowMatching;
import dev.diffuse.kernels.loss.MseLoss;
import dev.diffuse.runtime.Tensor;

/**
 * The flow-matching objective for the linear path (rectified flow): for x0 from the data, eps ~ N(0, I) and
 * t ~ U(0, 1) per sample,
 * <pre>  x_t = (1 - t) eps + t x0,   L = mean || v_theta(x_t, t) - (x0 - eps) ||^2</pre>
 * Its minimiser is v*(x, t) = E[x0 - eps | x_t = x], the field {@link FlowSampler} integrates (a VELOCITY
 * denoiser at NoiseLevel(t, 1 - t, t)). {@link #prepare} is one fused pass (eps drawn in the kernel); the loss and
 * its gradient are {@link MseLoss} on (prediction, target).
 */
public final class FlowMatchingLoss {
    private FlowMatchingLoss() {}

    /** xt and target (both like x0) from x0 (B, ...), t (B) and eps = normal i of (seed, stream). */
    public static void prepare(Tensor xt, Tensor target, Tensor x0, Tensor t, long seed, long stream) {
        FlowMatching.pairDrawn(xt, target, x0, t, seed, stream);
    }

    /** The same with eps given. */
    public static void prepare(Tensor xt, Tensor target, Tensor x0, Tensor eps, Tensor t) {
        FlowMatching.pair(xt, target, x0, eps, t);
    }

    /** out[0] = mean squared error of pred against target. */
    public static void loss(Tensor out, Tensor pred, Tensor target) { MseLoss.forward(out, pred, target, null); }

    /** dpred = 2 (pred - target) / n (written). */
    public static void lossBackward(Tensor dpred, Tensor pred, Tensor target) { MseLoss.backward(dpred, pred, target, null); }
}
