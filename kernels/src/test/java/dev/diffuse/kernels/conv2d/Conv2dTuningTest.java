package dev.diffuse.kernels.conv2d;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.diffuse.kernels.tuning.Shape;
import dev.diffuse.kernels.tuning.TuningChecks;
import dev.diffuse.runtime.ClDeviceInfo;
import dev.diffuse.runtime.TestDevices;

/** Every tuning candidate of the three convolution passes (tiled and direct kernels) against Java, on odd shapes. */
class Conv2dTuningTest {

    private static Shape shape(int b, int cin, int h, int w, int cout, Conv2dSpec s) {
        return Conv2dTuning.shape(new Conv2d.Dims(b, cin, h, w, cout, s.outH(h), s.outW(w), s.kernel()), s);
    }

    @Test
    void everyForwardCandidateMatchesJava() {
        Shape[] shapes = new Shape[Conv2dTest.VARIANTS.length];
        for (int i = 0; i < shapes.length; i++) shapes[i] = shape(2, 5, 9, 11, 7, Conv2dTest.VARIANTS[i]);
        assertTrue(TuningChecks.assertEveryCandidateMatches(Conv2dTuning.FORWARD, shapes) > 20);
    }

    @Test
    void everyInputGradientCandidateMatchesJava() {
        TuningChecks.assertEveryCandidateMatches(Conv2dTuning.BACKWARD_INPUT, shape(2, 6, 9, 13, 5, Conv2dSpec.same3x3()),
                shape(2, 6, 9, 13, 5, Conv2dSpec.pointwise()), shape(2, 6, 9, 13, 5, Conv2dSpec.down3x3()),
                shape(2, 6, 10, 13, 5, Conv2dSpec.down3x3Asymmetric()));
    }

    @Test
    void everyWeightGradientCandidateMatchesJava() {
        TuningChecks.assertEveryCandidateMatches(Conv2dTuning.BACKWARD_WEIGHT, shape(5, 3, 10, 7, 9, Conv2dSpec.same3x3()),
                shape(5, 3, 10, 7, 9, Conv2dSpec.down3x3Asymmetric()), shape(5, 3, 10, 7, 9, Conv2dSpec.pointwise()));
    }

    @Test
    void legalRangesAreEnforced() {
        ClDeviceInfo info = TestDevices.openCl().info();
        Shape s = shape(2, 5, 9, 11, 7, Conv2dSpec.down3x3());
        assertNotNull(Conv2dTuning.FORWARD.illegal(Map.of("KERNEL", 1, "RM", 8, "VW", 16, "RN", 1, "WG", 8), s, info), "VW 16 at stride 2");
        assertNotNull(Conv2dTuning.FORWARD.illegal(Map.of("KERNEL", 0, "TM", 64, "TN", 64, "TK", 16, "WM", 16, "WN", 12), s, info));
        assertNotNull(Conv2dTuning.FORWARD.illegal(Map.of("KERNEL", 0, "TM", 256, "TN", 256, "TK", 64, "WM", 32, "WN", 32), s, info),
                "1024 items and 130 KB of local memory");
        assertNull(Conv2dTuning.BACKWARD_INPUT.illegal(Map.of("KERNEL", 1, "RM", 8, "VW", 16, "RN", 1, "WG", 8), s, info),
                "dx at stride 2 runs a stride-1 conv of the dilated dy: VW 16 is fine");
        Shape wide = Conv2dTuning.shape(new Conv2d.Dims(1, 2, 5, 5, 3, 5, 5, 1), new Conv2dSpec(1, 1, 1, 1, 1, 1));
        assertNotNull(Conv2dTuning.BACKWARD_INPUT.illegal(Map.of("KERNEL", 1, "RM", 8, "VW", 8, "RN", 1, "WG", 8), wide, info),
                "padding over K-1 has no direct dx");
        assertNotNull(Conv2dTuning.FORWARD.illegal(Map.of("KERNEL", 2), s, info));
        assertNotNull(Conv2dTuning.FORWARD.illegal(Map.of("KERNEL", 1, "RM", 8, "VW", 8, "RN", 1, "WG", 0), s, info),
                "no driver-chosen work-groups: PoCL may pick one whose private arrays overflow its stack");
        assertNull(Conv2dTuning.FORWARD.illegal(Conv2dCl.DEFAULT_TILED, s, info));
    }

    @Test
    void vectorBlockingCoversARowInTheFewestVectors() {
        assertArrayEquals(new int[]{16, 1}, Conv2dTuning.bestVectors(14, 1));
        assertArrayEquals(new int[]{8, 1}, Conv2dTuning.bestVectors(7, 1));
        assertArrayEquals(new int[]{16, 1}, Conv2dTuning.bestVectors(28, 1));
        assertArrayEquals(new int[]{8, 1}, Conv2dTuning.bestVectors(7, 2));
    }
}
