package dev.diffuse.kernels.conv2d;

import static dev.diffuse.runtime.Close.randn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.diffuse.kernels.elementwise.Elementwise;
import dev.diffuse.kernels.shape.ShapeOps;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;

/**
 * {@link Conv2d#forwardFused}: the Java fast path against the composed reference, the unfused sequence of ops it
 * replaces (bit for bit on the Java device), and OpenCL against Java, on odd shapes; in-place residual included.
 */
class Conv2dFusedTest {
    /** Which optional terms a case uses. */
    enum Terms { CHANNEL_ADD, RESIDUAL, RESIDUAL_IN_PLACE, ALL_SCALED }

    static Stream<Arguments> cases() {
        return Stream.of(Terms.values()).flatMap(t -> Stream.of(
                Arguments.of(1, 3, 7, 7, 5, Conv2dSpec.same3x3(), t), Arguments.of(3, 17, 28, 28, 13, Conv2dSpec.same3x3(), t),
                Arguments.of(2, 33, 14, 14, 37, Conv2dSpec.pointwise(), t), Arguments.of(3, 5, 9, 8, 7, Conv2dSpec.down3x3(), t)));
    }

    /** Runs y = fused(...) with the chosen terms on a device; returns y. */
    static float[] run(Device d, int B, int cin, int h, int w, int cout, Conv2dSpec s, Terms t, int mode) {
        int k = s.kernel(), oh = s.outH(h), ow = s.outW(w);
        long seed = B * 100L + cin + cout;
        float scale = t == Terms.ALL_SCALED ? 0.7071f : 1f;
        try (Tensor x = Tensor.of(d, randn(seed, B * cin * h * w), B, cin, h, w);
             Tensor wt = Tensor.of(d, scaled(randn(seed + 1, cout * cin * k * k), cin * k * k), cout, cin, k, k);
             Tensor b = Tensor.of(d, randn(seed + 2, cout), cout);
             Tensor add = Tensor.of(d, randn(seed + 3, B * cout), B, cout);
             Tensor res = Tensor.of(d, randn(seed + 4, B * cout * oh * ow), B, cout, oh, ow);
             Tensor y = Tensor.of(d, randn(seed + 4, B * cout * oh * ow), B, cout, oh, ow)) {   // = res for in-place
            Tensor channelAdd = t == Terms.CHANNEL_ADD || t == Terms.ALL_SCALED ? add : null;
            Tensor residual = switch (t) {
                case RESIDUAL, ALL_SCALED -> res;
                case RESIDUAL_IN_PLACE -> y;
                default -> null;
            };
            switch (mode) {
                case 0 -> Conv2d.forwardFused(y, x, wt, b, channelAdd, residual, scale, s);
                case 1 -> Conv2dJava.forwardFusedReference(y, x, wt, b, channelAdd, residual, scale, s);
                default -> {   // the unfused sequence (conv into a separate tensor when the residual is y)
                    try (Tensor c = Tensor.allocate(d, y.shape())) {
                        Conv2d.forward(c, x, wt, b, s);
                        if (channelAdd != null) ShapeOps.addBroadcast(c, c, channelAdd);
                        if (residual != null) Elementwise.add(y, c, residual);
                        else y.copyFrom(c);
                        if (scale != 1f) Elementwise.scale(y, y, scale);
                    }
                }
            }
            return y.toArray();
        }
    }

    private static float[] scaled(float[] w, int fanIn) {
        for (int i = 0; i < w.length; i++) w[i] /= (float) Math.sqrt(fanIn);
        return w;
    }

    @ParameterizedTest(name = "B={0} Cin={1} {2}x{3} Cout={4} {5} {6}")
    @MethodSource("cases")
    void javaMatchesReferenceAndTheUnfusedSequenceBitForBit(int B, int cin, int h, int w, int cout, Conv2dSpec s, Terms t) {
        JavaDevice j = TestDevices.java();
        float[] fused = run(j, B, cin, h, w, cout, s, t, 0);
        Conv2dTest.close(run(j, B, cin, h, w, cout, s, t, 1), fused, 2e-6, "fused vs reference " + t);
        assertArrayEquals(run(j, B, cin, h, w, cout, s, t, 2), fused, "fused vs unfused ops " + t);
    }

    @ParameterizedTest(name = "B={0} Cin={1} {2}x{3} Cout={4} {5} {6}")
    @MethodSource("cases")
    void openClMatchesJava(int B, int cin, int h, int w, int cout, Conv2dSpec s, Terms t) {
        Device cl = TestDevices.openCl();
        Conv2dTest.close(run(TestDevices.java(), B, cin, h, w, cout, s, t, 0), run(cl, B, cin, h, w, cout, s, t, 0), 1e-5,
                "OpenCL vs Java " + t);
    }

    @Test
    void partlyOverlappingResidualIsRefused() {
        JavaDevice j = TestDevices.java();
        try (Tensor x = Tensor.allocate(j, 1, 2, 4, 4); Tensor w = Tensor.allocate(j, 2, 2, 3, 3); Tensor b = Tensor.allocate(j, 2);
             Tensor big = Tensor.allocate(j, 2 * 32 + 8)) {
            Tensor y = big.view(0, 1, 2, 4, 4), shifted = big.view(8, 1, 2, 4, 4);
            var e = assertThrows(IllegalArgumentException.class,
                    () -> Conv2d.forwardFused(y, x, w, b, null, shifted, 1f, Conv2dSpec.same3x3()));
            assertTrue(e.getMessage().contains("overlaps"), e.getMessage());
        }
    }
}
