package dev.diffuse.kernels.activation;

import java.util.Map;

import dev.diffuse.kernels.Checks;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Tensor;

/** OpenCL launcher for {@link Activation}: float4 per work-item when n % 4 == 0 and offsets are aligned, else one float. */
final class ActivationCl {
    static final String SRC = "dev/diffuse/kernels/activation.cl";
    static final int WG = 256;

    private ActivationCl() {}

    static int vec(long n, Tensor... ts) {
        if (n % 4 != 0) return 1;
        for (Tensor t : ts) if (t.offset() % 4 != 0) return 1;
        return 4;
    }

    static void silu(ClDevice c, Tensor y, Tensor x) {
        int n = Checks.intNumel("silu", y), vec = vec(n, y, x);
        c.kernel(SRC, "silu_forward", Map.of("VEC", vec)).launch1d(n / vec, WG, y, x, n / vec);
    }

    static void siluBackward(ClDevice c, Tensor dx, Tensor dy, Tensor x) {
        int n = Checks.intNumel("siluBackward", dx), vec = vec(n, dx, dy, x);
        c.kernel(SRC, "silu_backward", Map.of("VEC", vec)).launch1d(n / vec, WG, dx, dy, x, n / vec);
    }
}
