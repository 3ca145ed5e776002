package dev.diffuse.kernels.attention;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.diffuse.kernels.tuning.Shape;
import dev.diffuse.kernels.tuning.TuningChecks;
import dev.diffuse.runtime.TestDevices;

/** Every tuning candidate of the attention forward (flash tiles and the direct kernel) and backward against Java. */
class AttentionTuningTest {

    @Test
    void everyForwardCandidateMatchesJava() {
        TuningChecks.assertEveryCandidateMatches(AttentionTuning.FORWARD, Shape.of("BH", 3, "N", 37, "D", 20),
                Shape.of("BH", 2, "N", 50, "D", 64), Shape.of("BH", 1, "N", 9, "D", 7));
    }

    @Test
    void everyBackwardCandidateMatchesJava() {
        TuningChecks.assertEveryCandidateMatches(AttentionTuning.BACKWARD, Shape.of("BH", 2, "N", 37, "D", 20),
                Shape.of("BH", 1, "N", 45, "D", 64));
    }

    @Test
    void legalRangesAreEnforced() {
        var info = TestDevices.openCl().info();
        Shape s = Shape.of("BH", 2, "N", 50, "D", 20);
        assertNotNull(AttentionTuning.FORWARD.illegal(Map.of("KERNEL", 1, "VK", 16, "RQ", 1, "DV", 8, "WG", 8), s, info), "8 does not divide 20");
        assertNull(AttentionTuning.FORWARD.illegal(Map.of("KERNEL", 1, "VK", 16, "RQ", 1, "DV", 4, "WG", 8), s, info));
        assertNotNull(AttentionTuning.FORWARD.illegal(Map.of("KERNEL", 0, "TY", 16, "RM", 8, "CN", 8), Shape.of("BH", 1, "N", 9, "D", 256), info),
                "local memory over 48 KB");
        assertNotNull(AttentionTuning.BACKWARD.illegal(Map.of("BR", 24, "BC", 16, "DC", 32), s, info));
    }
}
