package dev.diffuse.kernels.elementwise;

import static dev.diffuse.runtime.Close.assertClose;
import static dev.diffuse.runtime.Close.randn;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;

/** Java reference against the definition, then OpenCL against Java, on sizes that are not multiples of a work-group. */
class ElementwiseTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 93, 144, 257, 100_003})
    void javaMatchesDefinitionAndOpenClMatchesJava(int n) {
        float[] x = randn(n, n), y = randn(n + 1, n);
        float[] scale = new float[n], add = new float[n], mul = new float[n], axpby = new float[n];
        for (int i = 0; i < n; i++) {
            scale[i] = 0.5f * x[i];
            add[i] = x[i] + y[i];
            mul[i] = x[i] * y[i];
            axpby[i] = -1.5f * x[i] + 2.25f * y[i];
        }
        ClDevice cl = TestDevices.openCl();
        for (Device d : new Device[]{TestDevices.java(), cl}) {
            try (Tensor tx = Tensor.of(d, x, n); Tensor ty = Tensor.of(d, y, n); Tensor out = Tensor.allocate(d, n)) {
                Elementwise.scale(out, tx, 0.5f);
                assertClose(scale, out.toArray(), 0, 1e-7, "scale on " + d.id());
                Elementwise.add(out, tx, ty);
                assertClose(add, out.toArray(), 0, 1e-7, "add on " + d.id());
                Elementwise.mul(out, tx, ty);
                assertClose(mul, out.toArray(), 0, 1e-7, "mul on " + d.id());
                Elementwise.axpby(out, -1.5f, tx, 2.25f, ty);
                assertClose(axpby, out.toArray(), 1e-6, 1e-6, "axpby on " + d.id());
                Elementwise.axpby(tx, 1f, tx, 1f, ty); // aliasing output and input
                assertClose(add, tx.toArray(), 0, 1e-7, "aliased add on " + d.id());
                Elementwise.fill(out, 3f);
                assertClose(new float[n], out.toArray(), 3f, 0, "fill range on " + d.id());
                for (float v : out.toArray()) if (v != 3f) throw new AssertionError("fill wrote " + v);
            }
        }
    }

    /** The Java device's vector loops give exactly the plain loop's bits (same IEEE operations, no FMA), on views. */
    @ParameterizedTest
    @ValueSource(ints = {1, 17, (1 << 16) + 5, 3 * (1 << 16) - 3})
    void javaIsBitExactAgainstThePlainLoop(int n) {
        float[] x = randn(70 + n, n + 1), y = randn(71 + n, n + 1);
        var j = TestDevices.java();
        try (Tensor tx = Tensor.of(j, x, n + 1); Tensor ty = Tensor.of(j, y, n + 1); Tensor out = Tensor.allocate(j, n)) {
            Tensor vx = tx.view(1, n), vy = ty.view(1, n);
            float[] got;
            Elementwise.axpby(out, 0.3f, vx, -1.7f, vy);
            got = out.toArray();
            for (int i = 0; i < n; i++) if (got[i] != 0.3f * x[i + 1] + -1.7f * y[i + 1]) throw new AssertionError("axpby at " + i);
            Elementwise.add(out, vx, vy);
            got = out.toArray();
            for (int i = 0; i < n; i++) if (got[i] != x[i + 1] + y[i + 1]) throw new AssertionError("add at " + i);
            Elementwise.fill(out, -0f);
            for (float v : out.toArray()) if (Float.floatToRawIntBits(v) != Float.floatToRawIntBits(-0f)) throw new AssertionError("fill -0 wrote " + v);
            Elementwise.fill(out, 0f);
            for (float v : out.toArray()) if (Float.floatToRawIntBits(v) != 0) throw new AssertionError("fill 0 wrote " + v);
        }
    }
}
