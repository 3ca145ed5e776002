package dev.diffuse.kernels.conv2d;

import static dev.diffuse.runtime.Close.assertClose;
import static dev.diffuse.runtime.Close.randn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;

/** Spec geometry, Java fast path vs the plain reference, and argument errors. Gradients: Conv2dGradTest; OpenCL: Conv2dClTest. */
class Conv2dTest {
    static final Conv2dSpec[] VARIANTS = {Conv2dSpec.same3x3(), Conv2dSpec.down3x3(), Conv2dSpec.down3x3Asymmetric(),
            Conv2dSpec.pointwise()};

    /** Results of one forward + backward on a device, with dw and db starting from nonzero values (they accumulate). */
    record Run(float[] y, float[] dx, float[] dw, float[] db) {}

    /** A forward/backward implementation under test. */
    interface Ops {
        void forward(Tensor y, Tensor x, Tensor w, Tensor b, Conv2dSpec s);

        void backward(Tensor dx, Tensor dw, Tensor db, Tensor dy, Tensor x, Tensor w, Conv2dSpec s);
    }

    static final Ops PUBLIC = new Ops() {
        public void forward(Tensor y, Tensor x, Tensor w, Tensor b, Conv2dSpec s) { Conv2d.forward(y, x, w, b, s); }

        public void backward(Tensor dx, Tensor dw, Tensor db, Tensor dy, Tensor x, Tensor w, Conv2dSpec s) {
            Conv2d.backward(dx, dw, db, dy, x, w, s);
        }
    };

    static final Ops REFERENCE = new Ops() {
        public void forward(Tensor y, Tensor x, Tensor w, Tensor b, Conv2dSpec s) { Conv2dJava.forwardReference(y, x, w, b, s); }

        public void backward(Tensor dx, Tensor dw, Tensor db, Tensor dy, Tensor x, Tensor w, Conv2dSpec s) {
            Conv2dJava.backwardReference(dx, dw, db, dy, x, w, s);
        }
    };

    /** Seeded problem (B, Cin, H, W, Cout) for a spec. */
    record Problem(int B, int Cin, int H, int W, int Cout, Conv2dSpec spec, float[] x, float[] w, float[] b, float[] dy,
                   float[] dw0, float[] db0) {
        static Problem of(long seed, int B, int Cin, int H, int W, int Cout, Conv2dSpec s) {
            int k = s.kernel(), oh = s.outH(H), ow = s.outW(W);
            float[] w = randn(seed + 1, Cout * Cin * k * k);
            float scale = (float) (1 / Math.sqrt(Cin * k * k));
            for (int i = 0; i < w.length; i++) w[i] *= scale;
            return new Problem(B, Cin, H, W, Cout, s, randn(seed, B * Cin * H * W), w, randn(seed + 2, Cout),
                    randn(seed + 3, B * Cout * oh * ow), randn(seed + 4, w.length), randn(seed + 5, Cout));
        }

        int[] yShape() { return new int[]{B, Cout, spec.outH(H), spec.outW(W)}; }

        /** reference = true: Conv2dJava.*Reference on the Java device; else the public ops on {@code d}. */
        Run run(Device d, boolean reference) {
            return run(d, reference ? REFERENCE : PUBLIC);
        }

        Run run(Device d, Ops ops) {
            int k = spec.kernel();
            try (Tensor tx = Tensor.of(d, x, B, Cin, H, W); Tensor tw = Tensor.of(d, w, Cout, Cin, k, k);
                 Tensor tb = Tensor.of(d, b, Cout); Tensor ty = Tensor.allocate(d, yShape());
                 Tensor tdy = Tensor.of(d, dy, yShape()); Tensor tdx = Tensor.of(d, randn(99, x.length), B, Cin, H, W);
                 Tensor tdw = Tensor.of(d, dw0, Cout, Cin, k, k); Tensor tdb = Tensor.of(d, db0, Cout)) {
                ops.forward(ty, tx, tw, tb, spec);
                ops.backward(tdx, tdw, tdb, tdy, tx, tw, spec);
                return new Run(ty.toArray(), tdx.toArray(), tdw.toArray(), tdb.toArray());
            }
        }
    }

    /** |e - a| <= tol * (max|e| + 1): sums of hundreds of float products, compared across summation orders. */
    static void close(float[] e, float[] a, double tol, String what) {
        double scale = 1;
        for (float v : e) scale = Math.max(scale, Math.abs(v));
        assertClose(e, a, tol * scale, 0, what);
    }

    static void closeRuns(Run e, Run a, double tol, String what) {
        close(e.y, a.y, tol, what + " y");
        close(e.dx, a.dx, tol, what + " dx");
        close(e.dw, a.dw, tol, what + " dw");
        close(e.db, a.db, tol, what + " db");
    }

    @Test
    void specGeometry() {
        assertEquals(28, Conv2dSpec.same3x3().outH(28));
        assertEquals(14, Conv2dSpec.down3x3().outH(28));
        assertEquals(4, Conv2dSpec.down3x3().outW(7)); // ceil(7/2)
        assertEquals(14, Conv2dSpec.down3x3Asymmetric().outH(28));
        assertEquals(3, Conv2dSpec.down3x3Asymmetric().outW(7)); // floor(7/2)
        assertEquals(7, Conv2dSpec.pointwise().outH(7));
        var e = assertThrows(IllegalArgumentException.class, () -> new Conv2dSpec(3, 1, 0, 0, 0, 0).outH(2));
        assertTrue(e.getMessage().contains("smaller than the kernel"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Conv2dSpec(3, 0, 1, 1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new Conv2dSpec(3, 1, -1, 1, 1, 1));
    }

    static Stream<Arguments> fastShapes() {
        // batch 1 and 3, 7x7 and 28x28 maps, channel counts that are not multiples of the vector width or of the
        // micro-kernel heights (12, 8, 4), more images than one plane group holds (B=9 at 64 channels of 14x14)
        return Stream.of(VARIANTS).flatMap(s -> Stream.of(
                Arguments.of(1, 3, 7, 7, 5, s), Arguments.of(3, 33, 9, 8, 5, s), Arguments.of(2, 5, 14, 13, 37, s),
                Arguments.of(1, 17, 28, 28, 13, s), Arguments.of(3, 7, 7, 7, 1, s), Arguments.of(9, 64, 14, 14, 64, s),
                Arguments.of(1, 1, 28, 28, 32, s), Arguments.of(6, 5, 28, 28, 7, s)));   // >= 4096 pixels: weights packed per call
    }

    @ParameterizedTest(name = "B={0} Cin={1} {2}x{3} Cout={4} {5}")
    @MethodSource("fastShapes")
    void javaFastMatchesReference(int B, int Cin, int H, int W, int Cout, Conv2dSpec s) {
        Problem p = Problem.of(B * 1000L + Cin * 10L + H, B, Cin, H, W, Cout, s);
        JavaDevice j = TestDevices.java();
        closeRuns(p.run(j, true), p.run(j, false), 2e-6, "java fast vs reference " + s);
    }

    /** Small convolutions keep packed weights between calls; writing the weights must make the next call repack. */
    @Test
    void changedWeightsAreUsedByTheNextCall() {
        JavaDevice j = TestDevices.java();
        Problem p = Problem.of(21, 1, 6, 7, 7, 5, Conv2dSpec.same3x3());
        try (Tensor x = Tensor.of(j, p.x(), 1, 6, 7, 7); Tensor w = Tensor.of(j, p.w(), 5, 6, 3, 3); Tensor b = Tensor.of(j, p.b(), 5);
             Tensor y = Tensor.allocate(j, 1, 5, 7, 7); Tensor yRef = Tensor.allocate(j, 1, 5, 7, 7)) {
            for (int round = 0; round < 3; round++) {
                Conv2d.forward(y, x, w, b, p.spec());
                Conv2dJava.forwardReference(yRef, x, w, b, p.spec());
                close(yRef.toArray(), y.toArray(), 2e-6, "round " + round);
                float[] wv = w.toArray();
                wv[round * 7] += 1f;                      // one weight changes, in place
                w.upload(wv);
            }
        }
    }

    @Test
    void backwardWithoutDxAndDbStillAccumulatesDw() {
        Problem p = Problem.of(11, 2, 5, 9, 9, 7, Conv2dSpec.down3x3());
        ClDevice cl = TestDevices.openCl();
        for (Device d : new Device[]{TestDevices.java(), cl}) {
            Run full = p.run(d, false);
            Run dwOnly = p.run(d, new Ops() {
                public void forward(Tensor y, Tensor x, Tensor w, Tensor b, Conv2dSpec s) { Conv2d.forward(y, x, w, b, s); }

                public void backward(Tensor dx, Tensor dw, Tensor db, Tensor dy, Tensor x, Tensor w, Conv2dSpec s) {
                    Conv2d.backward(null, dw, null, dy, x, w, s);
                }
            });
            assertArrayEquals(full.dw(), dwOnly.dw(), "dw with dx, db skipped on " + d.id());
            assertArrayEquals(p.db0(), dwOnly.db(), "db untouched when skipped on " + d.id());
        }
    }

    @Test
    void argumentErrorsSayWhatWasExpected() {
        JavaDevice j = TestDevices.java();
        Conv2dSpec s = Conv2dSpec.same3x3();
        try (Tensor x = Tensor.allocate(j, 2, 3, 8, 8); Tensor w = Tensor.allocate(j, 4, 3, 3, 3);
             Tensor wBadCin = Tensor.allocate(j, 4, 5, 3, 3); Tensor b = Tensor.allocate(j, 4);
             Tensor y = Tensor.allocate(j, 2, 4, 8, 8); Tensor yBad = Tensor.allocate(j, 2, 4, 4, 4)) {
            var e = assertThrows(IllegalArgumentException.class, () -> Conv2d.forward(yBad, x, w, b, s));
            assertTrue(e.getMessage().contains("[2, 4, 8, 8]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Conv2d.forward(y, x, wBadCin, b, s));
            assertTrue(e.getMessage().contains("Cin"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Conv2d.forward(y, x, w, b, Conv2dSpec.pointwise()));
            assertTrue(e.getMessage().contains("1x1"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Conv2d.backward(null, b, b, y, x, w, s));
            assertTrue(e.getMessage().contains("dw"), e.getMessage());
        }
    }
}
