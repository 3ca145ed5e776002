package dev.diffuse.kernels.groupnorm;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.diffuse.kernels.tuning.Shape;
import dev.diffuse.kernels.tuning.TuningChecks;
import dev.diffuse.runtime.TestDevices;

/** Every work-group size and vector width of GroupNorm (+ SiLU) forward and backward against Java, on odd shapes. */
class GroupNormTuningTest {

    @Test
    void everyCandidateMatchesJava() {
        for (GroupNormTuning op : GroupNormTuning.values())
            TuningChecks.assertEveryCandidateMatches(op, Shape.of("B", 3, "C", 12, "HW", 49, "G", 4, "SILU", 0),
                    Shape.of("B", 2, "C", 6, "HW", 36, "G", 3, "SILU", 1), Shape.of("B", 2, "C", 8, "HW", 36, "G", 2, "SILU", 0),
                    Shape.of("B", 3, "C", 12, "HW", 25, "G", 4, "SILU", 1));
    }

    @Test
    void legalRangesAreEnforced() {
        var info = TestDevices.openCl().info();
        Shape odd = Shape.of("B", 3, "C", 12, "HW", 49, "G", 4, "SILU", 0);
        assertNotNull(GroupNormTuning.FORWARD.illegal(Map.of("WG", 64, "VEC", 4), odd, info), "VEC 4 needs HW % 4 == 0");
        assertNotNull(GroupNormTuning.FORWARD.illegal(Map.of("WG", 48, "VEC", 1), odd, info), "not a power of two");
        assertNotNull(GroupNormTuning.FORWARD.illegal(Map.of("WG", 2048, "VEC", 1), odd, info), "over NVIDIA's 1024 in strict mode");
        assertNull(GroupNormTuning.FORWARD.illegal(Map.of("WG", 1, "VEC", 1), odd, info));
    }
}
