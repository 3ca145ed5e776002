package dev.diffuse.kernels.conv2d;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;

/** OpenCL against the Java fast path on odd shapes for all four variants, and bit-identical repeated backward. */
class Conv2dClTest {

    static Stream<Arguments> shapes() {
        // (B, Cin, H, W, Cout): tiny single-tile; K-split dw (B*OH*OW >= 512) with 28x28; several M tiles (Cin, Cout > 64).
        return Stream.of(Conv2dTest.VARIANTS).flatMap(s -> Stream.of(
                Arguments.of(1, 3, 7, 7, 5, s), Arguments.of(3, 33, 28, 28, 5, s), Arguments.of(3, 5, 28, 27, 33, s),
                Arguments.of(1, 70, 7, 7, 65, s)));
    }

    @ParameterizedTest(name = "B={0} Cin={1} {2}x{3} Cout={4} {5}")
    @MethodSource("shapes")
    void openClMatchesJava(int B, int Cin, int H, int W, int Cout, Conv2dSpec s) {
        ClDevice cl = TestDevices.openCl();
        Conv2dTest.Problem p = Conv2dTest.Problem.of(B * 31L + Cin + H * 7L + Cout, B, Cin, H, W, Cout, s);
        Conv2dTest.closeRuns(p.run(TestDevices.java(), false), p.run(cl, false), 1e-5, "OpenCL vs Java " + s + " on " + cl.id());
    }

    /** The tuning defines are real knobs: 8x4 register blocks (128x64 tiles) and 32x32 tiles of 64 items, K step 8. */
    @Test
    void otherTuningsGiveTheSameResults() {
        ClDevice cl = TestDevices.openCl();
        for (Conv2dCl.Tuning t : new Conv2dCl.Tuning[]{new Conv2dCl.Tuning(128, 64, 16, 16, 16, 128),
                new Conv2dCl.Tuning(32, 32, 8, 8, 8, 64)}) {
            Conv2dTest.Ops ops = new Conv2dTest.Ops() {
                public void forward(Tensor y, Tensor x, Tensor w, Tensor b, Conv2dSpec s) {
                    Conv2dCl.forward(cl, y, x, w, b, Conv2d.dims("test", x, w, s), s, t);
                }

                public void backward(Tensor dx, Tensor dw, Tensor db, Tensor dy, Tensor x, Tensor w, Conv2dSpec s) {
                    Conv2dCl.backward(cl, dx, dw, db, dy, x, w, Conv2d.dims("test", x, w, s), s, t);
                }
            };
            for (Conv2dSpec s : new Conv2dSpec[]{Conv2dSpec.same3x3(), Conv2dSpec.down3x3()}) {
                Conv2dTest.Problem p = Conv2dTest.Problem.of(17, 3, 33, 28, 28, 70, s);
                Conv2dTest.closeRuns(p.run(TestDevices.java(), false), p.run(cl, ops), 1e-5, "tuning " + t + " " + s);
            }
        }
    }

    @Test
    void repeatedBackwardIsBitIdentical() {
        ClDevice cl = TestDevices.openCl();
        for (Conv2dSpec s : new Conv2dSpec[]{Conv2dSpec.same3x3(), Conv2dSpec.down3x3Asymmetric()}) {
            Conv2dTest.Problem p = Conv2dTest.Problem.of(5, 3, 33, 28, 28, 12, s);
            Conv2dTest.Run a = p.run(cl, false), b = p.run(cl, false);
            assertArrayEquals(a.y(), b.y(), s + " y");
            assertArrayEquals(a.dx(), b.dx(), s + " dx");
            assertArrayEquals(a.dw(), b.dw(), s + " dw");
            assertArrayEquals(a.db(), b.db(), s + " db");
        }
    }
}
