package dev.diffuse.tornado.kernels;

import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.diffuse.kernels.conv2d.Conv2d;
import dev.diffuse.kernels.conv2d.Conv2dSpec;
import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.tornado.Tasks;
import dev.diffuse.tornado.TornadoTests;

/** TornadoVM conv2d forward against the Java device on odd shapes, every padding diffusers uses, and the fused epilogues. */
class Conv2dTornadoTest {
    static final JavaDevice J = TestDevices.java();

    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of(2, 5, 7, 7, 9, Conv2dSpec.same3x3(), false),
                Arguments.of(3, 3, 13, 11, 70, Conv2dSpec.same3x3(), true),
                Arguments.of(2, 6, 9, 9, 7, Conv2dSpec.down3x3(), false),
                Arguments.of(2, 6, 8, 8, 7, Conv2dSpec.down3x3Asymmetric(), false),
                Arguments.of(1, 4, 7, 7, 5, Conv2dSpec.down3x3Asymmetric(), true),
                Arguments.of(2, 33, 5, 5, 65, Conv2dSpec.pointwise(), true),
                Arguments.of(3, 1, 28, 28, 32, Conv2dSpec.same3x3(), false),
                Arguments.of(2, 32, 14, 14, 1, Conv2dSpec.same3x3(), true));
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void forwardMatchesJava(int b, int cin, int h, int w, int cout, Conv2dSpec spec, boolean epilogue) {
        int k = spec.kernel(), oh = spec.outH(h), ow = spec.outW(w), ny = b * cout * oh * ow;
        float[] x = Close.randn(1, b * cin * h * w), wt = Close.randn(2, cout * cin * k * k), bias = Close.randn(3, cout);
        float[] e = Close.randn(4, b * cout), r = Close.randn(5, ny);
        float[] expected;
        try (Tensor tx = Tensor.of(J, x, b, cin, h, w); Tensor tw = Tensor.of(J, wt, cout, cin, k, k); Tensor tb = Tensor.of(J, bias, cout);
             Tensor ty = Tensor.allocate(J, b, cout, oh, ow)) {
            Conv2d.forward(ty, tx, tw, tb, spec);
            expected = ty.toArray();
        }
        if (epilogue)
            for (int i = 0; i < ny; i++) expected[i] += e[i / (oh * ow)] + r[i];
        TornadoTests act = new TornadoTests(), par = new TornadoTests();
        int ox = act.put(x), oe = act.put(e), or = act.put(r), oy = act.zeros(ny);
        int ow8 = par.put(wt), ob = par.put(bias);
        Tasks t = act.tasks();
        t.graph().transferToDevice(uk.ac.manchester.tornado.api.enums.DataTransferMode.EVERY_EXECUTION, par.array());
        if (epilogue) Conv2dTornado.forward(t, act.array(), par.array(), oy, ox, ow8, ob, oe, cout, or, b, cin, h, w, cout, spec);
        else Conv2dTornado.forward(t, act.array(), par.array(), oy, ox, ow8, ob, b, cin, h, w, cout, spec);
        act.run(t);
        Close.assertClose(expected, act.read(oy, ny), 2e-4, 1e-4, "conv2d " + spec + (epilogue ? " + e + r" : ""));
    }
}
