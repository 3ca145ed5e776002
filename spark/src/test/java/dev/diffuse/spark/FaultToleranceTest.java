package dev.diffuse.spark;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.spark.TaskContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.diffuse.pipeline.Images;
import dev.diffuse.pipeline.SampleRequest;

/**
 * Failures: a task that fails once, after it has emitted some rows, is retried and the data set still holds every
 * index exactly once with the right bits; a task that keeps failing fails the job, which then writes no manifest; an
 * executor whose copy of the model differs from the driver's refuses to sample; a model shipped with the job
 * (addFile) gives the same images. Runs on local[2,2]: two task threads, a task may fail twice.
 */
class FaultToleranceTest {
    static SparkSession spark;
    @TempDir
    static Path dir;
    static Path model;
    static final SampleRequest RUN = SampleRequest.builder().n(12).seed(99).sampler("ddpm").steps(2).build();
    static Images alone;
    /** Failures the probe injected (same JVM in local mode, so a static counter sees them). */
    static final AtomicInteger INJECTED = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        spark = SparkTests.session("local[2,2]", "FaultToleranceTest");
        model = TinyImageModels.write(dir.resolve("model"), 8, 0);
        alone = SparkTests.alone(model, RUN, 4);
    }

    @AfterAll
    static void stop() { spark.stop(); }

    GenerateSpec spec(ModelRef ref) { return new GenerateSpec(ref, RUN, "java", 4, 4, 2, true); }

    @Test
    void aTaskThatFailsOnceMidwayIsRetriedAndLeavesNoDuplicateOrMissingIndex() throws Exception {
        INJECTED.set(0);
        // partition 2 holds images 6..8: its first attempt dies after emitting image 6 (rows already in its file)
        TaskProbe failOnce = index -> {
            TaskContext tc = TaskContext.get();
            if (index == 7 && tc.attemptNumber() == 0) {
                INJECTED.incrementAndGet();
                throw new IllegalStateException("injected failure in partition " + tc.partitionId());
            }
        };
        GenerateJob.run(spark, spec(ModelRef.of(model)), dir.resolve("retried").toString(), false, failOnce);
        assertEquals(1, INJECTED.get(), "the failure was injected once");
        SparkTests.assertSameImages(alone, RUN, SparkTests.rows(spark, dir.resolve("retried")), "after a retried task");
        assertTrue(Files.exists(dir.resolve("retried").resolve(Manifest.FILE)));
    }

    @Test
    void aTaskThatKeepsFailingFailsTheJobAndNoManifestIsWritten() throws Exception {
        TaskProbe always = index -> {
            if (index == 3) throw new IllegalStateException("injected: image 3 always fails");
        };
        Path out = dir.resolve("failed");
        Exception e = assertThrows(Exception.class, () -> GenerateJob.run(spark, spec(ModelRef.of(model)), out.toString(), false, always));
        assertTrue(Failures.chain(e).contains("image 3 always fails"), Failures.chain(e));
        assertFalse(Files.exists(out.resolve(Manifest.FILE)), "no manifest for a failed job");
        var refused = assertThrows(IllegalArgumentException.class, () -> ImageSource.open(spark, out.toString(), null));
        assertTrue(refused.getMessage().contains("has no _manifest.json"), refused.getMessage());
    }

    @Test
    void anExecutorWithAnotherModelRefusesAndAShippedModelGivesTheSameImages() throws Exception {
        ModelRef ref = ModelRef.of(model);
        ModelRef wrong = new ModelRef(ref.folder(), "0".repeat(64), null);
        Exception e = assertThrows(Exception.class, () -> GenerateJob.run(spark, spec(wrong), dir.resolve("wrong").toString(), false, TaskProbe.NONE));
        assertTrue(Failures.rootMessage(e).contains("on this executor has SHA-256 " + ref.sha256() + " but the driver's has 000"), Failures.chain(e));

        ModelRef shipped = ModelShipping.ship(spark, ref);
        assertNotNull(shipped.shipName());
        GenerateJob.run(spark, spec(shipped), dir.resolve("shipped").toString(), false, TaskProbe.NONE);
        SparkTests.assertSameImages(alone, RUN, SparkTests.rows(spark, dir.resolve("shipped")), "model shipped with addFile");
    }
}
