package dev.diffuse.kernels.linear;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.diffuse.kernels.tuning.Shape;
import dev.diffuse.kernels.tuning.TuningChecks;
import dev.diffuse.runtime.TestDevices;

/** Every GEMM tiling candidate, for all transpose variants and with a bias, against Java on odd shapes. */
class GemmTuningTest {

    @Test
    void everyCandidateMatchesJava() {
        Shape[] variants = new Shape[4];
        for (int v = 0; v < 4; v++)
            variants[v] = Shape.of("M", 37, "N", 93, "K", 19, "TA", v / 2, "TB", v % 2, "BIAS", (v / 2) ^ (v % 2));
        TuningChecks.assertEveryCandidateMatches(GemmTuning.GEMM, variants);
    }

    @Test
    void legalRangesAreEnforced() {
        var info = TestDevices.openCl().info();
        Shape s = Shape.of("M", 37, "N", 93, "K", 19, "TA", 0, "TB", 1, "BIAS", 0);
        assertNotNull(GemmTuning.GEMM.illegal(Map.of("TM", 64, "TN", 64, "TK", 16, "WM", 6, "WN", 4), s, info), "WM not a multiple of 4");
        assertNotNull(GemmTuning.GEMM.illegal(Map.of("TM", 256, "TN", 256, "TK", 32, "WM", 4, "WN", 4), s, info), "4096 items");
        assertNull(GemmTuning.GEMM.illegal(Map.of("TM", 16, "TN", 16, "TK", 16, "WM", 4, "WN", 4), s, info));
    }
}
