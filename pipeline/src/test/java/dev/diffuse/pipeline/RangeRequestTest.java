package dev.diffuse.pipeline;

import static dev.diffuse.pipeline.PipelineCrowdTest.assertBitsEqual;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.TestDevices;

/**
 * A range of a run ({@link SampleRequest#firstIndex}) is that run's images bit for bit: noise keys and cycling class
 * labels follow the run's image index, not the request's, so a run split into ranges (as the Spark job splits it over
 * executors) is the same data set however it is split and batched.
 */
class RangeRequestTest {
    @TempDir
    Path dir;

    static List<Device> devices() { return List.of(TestDevices.java(), TestDevices.openCl()); }

    static PipelineOptions batchOf(int b) { return PipelineOptions.builder().maxBatch(b).batchWindow(Duration.ZERO).build(); }

    @ParameterizedTest
    @MethodSource("devices")
    void imageKOfARangeIsImageKOfTheWholeRun(Device device) throws Exception {
        Path cond = TinyModels.conditional(dir.resolve("cond"));
        // stochastic sampler (every step draws noise), cycling class labels (image k gets class k mod 2)
        SampleRequest whole = SampleRequest.builder().n(11).sampler("ddim").eta(1).steps(3).seed(41).build();
        float[] all;
        int per = 2 * 8 * 8;
        try (DiffusionPipeline p = DiffusionPipeline.load(cond, device, batchOf(4))) {
            all = p.sample(whole).images().data();
        }
        // ranges in other batch sizes, out of order
        int[][] ranges = {{7, 11}, {0, 3}, {3, 7}, {5, 6}};
        try (DiffusionPipeline p = DiffusionPipeline.load(cond, device, batchOf(3))) {
            for (int[] r : ranges) {
                SampleRequest range = whole.toBuilder().firstIndex(r[0]).n(r[1] - r[0]).build();
                float[] got = p.sample(range).images().data();
                assertBitsEqual(Arrays.copyOfRange(all, r[0] * per, r[1] * per), got,
                        device.id() + ": images " + r[0] + ".." + r[1] + " as a range");
            }
            assertEquals(5, p.resolve(whole.toBuilder().firstIndex(5).n(2).build()).firstIndex(), "resolve keeps firstIndex");
            assertArrayEquals(new int[]{1, 0, 1, 0}, p.classesOf(whole.toBuilder().firstIndex(5).n(4).build()),
                    "images 5..8 get classes 5..8 mod 2 (class 2 is the model's \"no class\")");
        }
    }

    @Test
    void aRangeNeedsASeedAndARowIndependentSampler() throws Exception {
        Path eps = TinyModels.unconditional(dir.resolve("eps"), ModelObjective.epsilon());
        try (DiffusionPipeline p = DiffusionPipeline.load(eps, TestDevices.java(), batchOf(4))) {
            var noSeed = assertThrows(IllegalArgumentException.class, () -> p.sample(SampleRequest.builder().n(2).firstIndex(3).build()));
            assertTrue(noSeed.getMessage().startsWith("firstIndex: a range of a larger run needs that run's seed"), noSeed.getMessage());
            var coupled = assertThrows(IllegalArgumentException.class,
                    () -> p.sample(SampleRequest.builder().n(2).seed(1).sampler("pc-vp").steps(2).firstIndex(3).build()));
            assertTrue(coupled.getMessage().contains("couples the images of a batch"), coupled.getMessage());
        }
        var negative = assertThrows(IllegalArgumentException.class, () -> SampleRequest.builder().firstIndex(-1).build());
        assertTrue(negative.getMessage().startsWith("firstIndex must be in 0.."), negative.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SampleRequest.builder().n(2).firstIndex(SampleRequest.MAX_INDEX - 1).build());
        assertEquals(0, SampleRequest.of(3).firstIndex());
    }
}
