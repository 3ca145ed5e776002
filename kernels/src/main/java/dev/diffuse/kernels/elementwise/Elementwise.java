package dev.diffuse.kernels.elementwise;

import dev.diffuse.kernels.Checks;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Elementwise ops. Output may alias an input. Each is memory-bound: bytes moved = 4 * n * (inputs + 1).
 * <ul>
 *   <li>{@code scale}: y = a x</li>
 *   <li>{@code add}: z = x + y (backward: dx = dz, dy = dz)</li>
 *   <li>{@code mul}: z = x * y</li>
 *   <li>{@code axpby}: z = a x + b y</li>
 *   <li>{@code fill}: y = v</li>
 * </ul>
 */
public final class Elementwise {
    private Elementwise() {}

    public static void scale(Tensor y, Tensor x, float a) {
        Checks.sameNumel("scale", y, x);
        switch (Checks.sameDevice("scale", y, x)) {
            case JavaDevice j -> ElementwiseJava.scale(j, y, x, a);
            case ClDevice c -> ElementwiseCl.scale(c, y, x, a);
        }
    }

    public static void add(Tensor z, Tensor x, Tensor y) {
        Checks.sameNumel("add", z, x, y);
        switch (Checks.sameDevice("add", z, x, y)) {
            case JavaDevice j -> ElementwiseJava.add(j, z, x, y);
            case ClDevice c -> ElementwiseCl.add(c, z, x, y);
        }
    }

    public static void mul(Tensor z, Tensor x, Tensor y) {
        Checks.sameNumel("mul", z, x, y);
        switch (Checks.sameDevice("mul", z, x, y)) {
            case JavaDevice j -> ElementwiseJava.mul(j, z, x, y);
            case ClDevice c -> ElementwiseCl.mul(c, z, x, y);
        }
    }

    public static void axpby(Tensor z, float a, Tensor x, float b, Tensor y) {
        Checks.sameNumel("axpby", z, x, y);
        switch (Checks.sameDevice("axpby", z, x, y)) {
            case JavaDevice j -> ElementwiseJava.axpby(j, z, a, x, b, y);
            case ClDevice c -> ElementwiseCl.axpby(c, z, a, x, b, y);
        }
    }

    public static void fill(Tensor y, float v) {
        switch (y.device()) {
            case JavaDevice j -> ElementwiseJava.fill(j, y, v);
            case ClDevice c -> ElementwiseCl.fill(c, y, v);
        }
    }
}
