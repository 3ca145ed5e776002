package dev.diffuse.kernels.elementwise;

import dev.diffuse.kernels.Checks;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Tensor;

/** OpenCL launcher for {@link Elementwise}: one work-item per element, work-group {@value #WG}. */
final class ElementwiseCl {
    static final String SRC = "dev/diffuse/kernels/elementwise.cl";
    static final int WG = 256;

    private ElementwiseCl() {}

    static void scale(ClDevice c, Tensor y, Tensor x, float a) {
        int n = Checks.intNumel("scale", y);
        c.kernel(SRC, "ew_scale").launch1d(n, WG, y, x, a, n);
    }

    static void add(ClDevice c, Tensor z, Tensor x, Tensor y) {
        int n = Checks.intNumel("add", z);
        c.kernel(SRC, "ew_add").launch1d(n, WG, z, x, y, n);
    }

    static void mul(ClDevice c, Tensor z, Tensor x, Tensor y) {
        int n = Checks.intNumel("mul", z);
        c.kernel(SRC, "ew_mul").launch1d(n, WG, z, x, y, n);
    }

    static void axpby(ClDevice c, Tensor z, float a, Tensor x, float b, Tensor y) {
        int n = Checks.intNumel("axpby", z);
        c.kernel(SRC, "ew_axpby").launch1d(n, WG, z, a, x, b, y, n);
    }

    static void fill(ClDevice c, Tensor y, float v) {
        int n = Checks.intNumel("fill", y);
        c.kernel(SRC, "ew_fill").launch1d(n, WG, y, v, n);
    }
}
