package dev.diffuse.kernels.activation;

import dev.diffuse.kernels.Checks;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Pointwise activations (any shape; outputs may alias inputs). SiLU (swish):
 * forward: y = x*s with s = sigmoid(x) = 1/(1 + e^-x); since ds/dx = s(1-s), dy/dx = s + x*s*(1-s),
 * so the backward writes dx = dy*(s + x*s*(1-s)). Memory bound: forward moves 8 bytes per element,
 * backward 12 ({@link #bytesMoved}).
 */
public final class Activation {
    private Activation() {}

    /** y = x * sigmoid(x). */
    public static void silu(Tensor y, Tensor x) {
        Checks.sameNumel("silu", y, x);
        switch (Checks.sameDevice("silu", y, x)) {
            case JavaDevice j -> ActivationJava.silu(j, y, x);
            case ClDevice c -> ActivationCl.silu(c, y, x);
        }
    }

    /** Backward of {@link #silu}: forward y = x*s; so dx = dy*(s + x*s*(1-s)) (written). */
    public static void siluBackward(Tensor dx, Tensor dy, Tensor x) {
        Checks.sameNumel("siluBackward", dx, dy, x);
        switch (Checks.sameDevice("siluBackward", dx, dy, x)) {
            case JavaDevice j -> ActivationJava.siluBackward(j, dx, dy, x);
            case ClDevice c -> ActivationCl.siluBackward(c, dx, dy, x);
        }
    }

    /** DRAM bytes one call moves for n elements: forward reads x, writes y (8n); backward reads dy, x, writes dx (12n). */
    public static long bytesMoved(long n, boolean backward) {
        return (backward ? 12L : 8L) * n;
    }
}
