package dev.diffuse.kernels.activation;

import static dev.diffuse.runtime.Close.assertClose;
import static dev.diffuse.runtime.Close.randn;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;

/** SiLU: definition in double, finite differences in double, OpenCL vs Java on scalar and float4 paths. */
class ActivationTest {
    static double silu(double x) { return x / (1 + Math.exp(-x)); }

    static double siluGrad(double x) {
        double s = 1 / (1 + Math.exp(-x));
        return s + x * s * (1 - s);
    }

    @Test
    void finiteDifferencesInDoubleMatchDerivative() {
        float[] xs = randn(1, 200);
        double h = 1e-6;
        for (float xf : xs) {
            double x = 4 * xf, fd = (silu(x + h) - silu(x - h)) / (2 * h);
            assertClose(new double[]{fd}, new double[]{siluGrad(x)}, 1e-9, 1e-6, "silu' at " + x);
        }
    }

    @Test
    void javaMatchesDefinition() {
        int n = 1001;
        float[] x = randn(2, n), dy = randn(3, n);
        for (int i = 0; i < n; i++) x[i] *= 6;
        double[] y = new double[n], dx = new double[n];
        for (int i = 0; i < n; i++) { y[i] = silu(x[i]); dx[i] = dy[i] * siluGrad(x[i]); }
        Device j = TestDevices.java();
        try (Tensor tx = Tensor.of(j, x, n); Tensor tdy = Tensor.of(j, dy, n); Tensor out = Tensor.allocate(j, n)) {
            Activation.silu(out, tx);
            assertClose(y, toDouble(out.toArray()), 1e-6, 1e-6, "silu");
            Activation.siluBackward(out, tdy, tx);
            assertClose(dx, toDouble(out.toArray()), 1e-6, 1e-6, "silu backward");
        }
    }

    /** The vector path against the plain-loop reference, across chunk boundaries and on a view at an odd offset. */
    @ParameterizedTest
    @ValueSource(ints = {1, 15, 17, 1000, (1 << 16) + 13, 3 * (1 << 16) - 1})
    void vectorPathMatchesTheReference(int n) {
        float[] x = randn(40 + n, n + 3), dy = randn(41 + n, n + 3);
        for (int i = 0; i < x.length; i++) x[i] *= 8;
        var j = TestDevices.java();
        try (Tensor tx = Tensor.of(j, x, n + 3); Tensor tdy = Tensor.of(j, dy, n + 3); Tensor a = Tensor.allocate(j, n); Tensor b = Tensor.allocate(j, n)) {
            Tensor vx = tx.view(3, n), vdy = tdy.view(3, n);   // unaligned views
            ActivationJava.siluReference(j, a, vx);
            ActivationJava.silu(j, b, vx);
            assertClose(a.toArray(), b.toArray(), 1e-7, 1e-6, "silu n=" + n);
            ActivationJava.siluBackwardReference(j, a, vdy, vx);
            ActivationJava.siluBackward(j, b, vdy, vx);
            assertClose(a.toArray(), b.toArray(), 1e-7, 1e-6, "silu backward n=" + n);
        }
    }

    static double[] toDouble(float[] a) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) r[i] = a[i];
        return r;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 93, 144, 3 * 12 * 28 * 28, 3 * 5 * 7 * 7})
    void openClMatchesJava(int n) {
        float[] x = randn(n, n), dy = randn(n + 1, n);
        for (int i = 0; i < n; i++) x[i] *= 5;
        float[][] out = new float[2][];
        float[][] grad = new float[2][];
        Device[] devs = {TestDevices.java(), TestDevices.openCl()};
        for (int k = 0; k < 2; k++) {
            try (Tensor tx = Tensor.of(devs[k], x, n); Tensor tdy = Tensor.of(devs[k], dy, n); Tensor t = Tensor.allocate(devs[k], n)) {
                Activation.silu(t, tx);
                out[k] = t.toArray();
                Activation.siluBackward(t, tdy, tx);
                grad[k] = t.toArray();
            }
        }
        assertClose(out[0], out[1], 1e-6, 1e-5, "silu n=" + n);
        assertClose(grad[0], grad[1], 1e-6, 1e-5, "silu backward n=" + n);
    }
}
