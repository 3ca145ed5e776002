package dev.diffuse.spark;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.diffuse.runtime.ClDeviceInfo;

/** The parts of the jobs that need no Spark: index ranges, the model hash, the GPU an executor was given. */
class JobPartsTest {
    @TempDir
    Path dir;

    @Test
    void rangesCoverEveryIndexOnceInNearlyEqualContiguousParts() {
        List<IndexRanges.Range> r = IndexRanges.split(17, 7);
        assertEquals(7, r.size());
        long next = 0;
        for (IndexRanges.Range x : r) {
            assertEquals(next, x.first());
            assertTrue(x.count() == 2 || x.count() == 3, x.toString());
            next = x.end();
        }
        assertEquals(17, next);
        assertEquals(3, IndexRanges.split(3, 8).size(), "never an empty range");
        assertEquals(List.of(new IndexRanges.Range(5, 7), new IndexRanges.Range(7, 9), new IndexRanges.Range(9, 10)),
                IndexRanges.chunks(new IndexRanges.Range(5, 10), 2));
        assertThrows(IllegalArgumentException.class, () -> IndexRanges.split(0, 2));
    }

    @Test
    void theModelHashCoversTheModelFilesAndNothingElse() throws Exception {
        Path m = TinyImageModels.write(dir.resolve("m"), 8, 0);
        String h = ModelRef.hash(m);
        Files.writeString(m.resolve("training_state.safetensors"), "optimizer state");
        Files.writeString(m.resolve(".notes"), "hidden");
        assertEquals(h, ModelRef.hash(m), "optimizer state and hidden files are not the model");
        Files.writeString(m.resolve("config.json"), Files.readString(m.resolve("config.json")) + " ");
        assertNotEquals(h, ModelRef.hash(m), "an edited config is another model");
        var e = assertThrows(IllegalStateException.class, () -> new ModelRef(m.toString(), h, null).verify(m));
        assertTrue(e.getMessage().contains("but the driver's has " + h), e.getMessage());
    }

    static ClDeviceInfo device(int platform, int index, boolean gpu) {
        return new ClDeviceInfo(platform, index, "p", "OpenCL 3.0", "d", "v", "1", "OpenCL 3.0", "OpenCL C 3.0", gpu, 1, 1, 256, 1, 1, 1, 1, true, List.of());
    }

    @Test
    void sparksGpuAddressIsThatIndexAmongTheOpenClGpus() {
        var devices = List.of(device(0, 0, false), device(1, 0, true), device(1, 1, true));
        assertEquals("cl:1:0", ExecutorResources.gpuSpec("0", devices));
        assertEquals("cl:1:1", ExecutorResources.gpuSpec(" 1", devices));
        assertThrows(IllegalStateException.class, () -> ExecutorResources.gpuSpec("2", devices));
        assertThrows(IllegalArgumentException.class, () -> ExecutorResources.gpuSpec("GPU-3f2a", devices));
    }
}
