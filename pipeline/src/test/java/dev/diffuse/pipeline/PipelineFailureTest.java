package dev.diffuse.pipeline;

import static dev.diffuse.pipeline.PipelineCrowdTest.assertBitsEqual;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.MemoryBudget;
import dev.diffuse.runtime.MemoryBudgetException;
import dev.diffuse.runtime.TestDevices;

/**
 * Exception safety: whatever fails (a bad request, a cancellation, an interrupt, a listener, memory refused before
 * queueing or inside a running batch), the next request gives the reference result, bit for bit.
 */
class PipelineFailureTest {
    static final SampleRequest REF = SampleRequest.builder().n(5).sampler("ddpm").steps(3).seed(99).classLabel(1).build();
    static final SampleRequest LONG = SampleRequest.builder().n(16).sampler("ddim").steps(400).seed(5).build();

    @TempDir
    static Path dir;
    static Path model;
    static float[] reference;
    static final Device JAVA = TestDevices.java();

    @BeforeAll
    static void referenceAlone() throws Exception {
        model = TinyModels.conditional(dir.resolve("tiny"));
        try (DiffusionPipeline p = DiffusionPipeline.load(model, JAVA, options())) {
            reference = p.sample(REF).images().data();
        }
    }

    static PipelineOptions options() { return PipelineOptions.builder().maxBatch(8).batchWindow(Duration.ofMillis(2)).build(); }

    private static void stillWorks(DiffusionPipeline p, String after) {
        assertBitsEqual(reference, p.sample(REF).images().data(), "the request after " + after);
    }

    @Test
    void badRequestsAreRefusedWithOneLineAndLeaveThePipelineWorking() throws Exception {
        try (DiffusionPipeline p = DiffusionPipeline.load(model, JAVA, options())) {
            var label = assertThrows(IllegalArgumentException.class, () -> p.sample(REF.toBuilder().classLabel(2).build()));
            assertEquals("classLabel must be in 0..2 except 2 (the model's \"no class\" id) for this model, got 2", label.getMessage());
            stillWorks(p, "a bad class label");
            var sampler = assertThrows(IllegalArgumentException.class, () -> p.sample(REF.toBuilder().sampler("edm-heun").build()));
            assertTrue(sampler.getMessage().contains("use one of [ddpm, ddim"), sampler.getMessage());
            var eta = assertThrows(IllegalArgumentException.class, () -> p.sample(REF.toBuilder().eta(0.3).build()));
            assertTrue(eta.getMessage().startsWith("eta applies to"), eta.getMessage());
            assertThrows(IllegalArgumentException.class, () -> p.submit(REF, null));
            stillWorks(p, "three refused requests");
            assertEquals(0, p.stats().queuedRequests());
        }
    }

    @Test
    void aRequestOverTheMemoryLimitIsRefusedBeforeAnythingIsQueued() throws Exception {
        try (DiffusionPipeline p = DiffusionPipeline.load(model, JAVA, options())) {
            var e = assertThrows(MemoryBudgetException.class, () -> p.sample(SampleRequest.builder().n(SampleRequest.MAX_N).seed(1).build()));
            assertTrue(e.getMessage().contains("stream") && e.getMessage().contains("n = 100000000"), e.getMessage());
            assertEquals(0, p.stats().queuedRequests());
            stillWorks(p, "a request over the memory limit");
        }
        var load = assertThrows(MemoryBudgetException.class,
                () -> DiffusionPipeline.load(model, JAVA, PipelineOptions.builder().maxBatch(8).maxMemoryBytes(100_000).build()));
        assertTrue(load.getMessage().contains("maxBatch") && load.getMessage().contains("memory limit"), load.getMessage());
    }

    @Test
    void aBatchThatRunsOutOfMemoryFailsItsRequestsOnly() throws Exception {
        try (DiffusionPipeline p = DiffusionPipeline.load(model, JAVA, options())) {
            String old = System.getProperty(MemoryBudget.PROPERTY);
            System.setProperty(MemoryBudget.PROPERTY, Long.toString(MemoryBudget.held(JAVA) + 4096));
            try {
                var e = assertThrows(MemoryBudgetException.class, () -> p.sample(REF));
                assertTrue(e.getMessage().contains("pipeline batch"), e.getMessage());
            } finally {
                if (old == null) System.clearProperty(MemoryBudget.PROPERTY);
                else System.setProperty(MemoryBudget.PROPERTY, old);
            }
            stillWorks(p, "a batch refused by the memory budget");
            assertEquals(1, p.stats().failed());
        }
    }

    @Test
    void cancellingAFutureStopsItsBatchBetweenEvaluations() throws Exception {
        try (DiffusionPipeline p = DiffusionPipeline.load(model, JAVA, options())) {
            CountDownLatch running = new CountDownLatch(1);
            int[] evaluations = new int[1];
            Future<SampleResult> f = p.submit(LONG, new SampleListener() {
                @Override public void onProgress(Progress pr) {
                    evaluations[0] = pr.evaluationsDone();
                    running.countDown();
                }
            });
            assertTrue(running.await(60, TimeUnit.SECONDS));
            assertTrue(f.cancel(true));
            assertThrows(CancellationException.class, f::get);
            stillWorks(p, "a cancelled request");
            assertTrue(evaluations[0] < 400, "the batch stopped early: " + evaluations[0] + " of 400 evaluations");
            assertEquals(1, p.stats().cancelled());
        }
    }

    @Test
    void interruptingTheCallerCancelsItsRequest() throws Exception {
        try (DiffusionPipeline p = DiffusionPipeline.load(model, JAVA, options())) {
            CountDownLatch running = new CountDownLatch(1);
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            boolean[] interruptKept = new boolean[1];
            Thread caller = new Thread(() -> {
                try {
                    p.sample(LONG, new SampleListener() {
                        @Override public void onProgress(Progress pr) { running.countDown(); }
                    });
                } catch (Throwable t) {
                    thrown.set(t);
                    interruptKept[0] = Thread.currentThread().isInterrupted();
                }
            });
            caller.start();
            assertTrue(running.await(60, TimeUnit.SECONDS));
            caller.interrupt();
            caller.join(60_000);
            assertInstanceOf(CancellationException.class, thrown.get());
            assertTrue(interruptKept[0], "the interrupt status is kept");
            stillWorks(p, "an interrupted caller");
        }
    }

    @Test
    void aFailingListenerFailsItsOwnRequestNotItsBatchMates() throws Exception {
        try (DiffusionPipeline p = DiffusionPipeline.load(model, JAVA, PipelineOptions.builder().maxBatch(16).batchWindow(Duration.ofMillis(300)).build())) {
            Future<SampleResult> bad = p.submit(REF.toBuilder().seed(1).build(), new SampleListener() {
                @Override public void onProgress(Progress pr) { throw new IllegalStateException("listener broke"); }
            });
            Future<SampleResult> good = p.submit(REF);
            var e = assertThrows(ExecutionException.class, () -> bad.get(60, TimeUnit.SECONDS));
            assertEquals("listener broke", e.getCause().getMessage());
            assertBitsEqual(reference, good.get(60, TimeUnit.SECONDS).images().data(), "the batch mate of a failing request");
            assertEquals(1, p.stats().batches(), "both rode in one batch");
            stillWorks(p, "a failing listener");
        }
    }

    @Test
    void aFullQueueRefusesAndAClosedPipelineTakesNothing() throws Exception {
        DiffusionPipeline p = DiffusionPipeline.load(model, JAVA, PipelineOptions.builder().maxBatch(8).maxQueuedRequests(2).build());
        Future<SampleResult> a = p.submit(LONG), b = p.submit(LONG.toBuilder().sampler("ddpm").build());
        var full = assertThrows(QueueFullException.class, () -> p.submit(REF));
        assertTrue(full.getMessage().contains("retry later"), full.getMessage());
        a.cancel(true);
        b.cancel(true);
        stillWorks(p, "a full queue");
        Future<SampleResult> queued = p.submit(REF);
        p.close(); // graceful: finishes what was queued
        assertBitsEqual(reference, queued.get(1, TimeUnit.SECONDS).images().data(), "a request queued before close");
        var closed = assertThrows(IllegalStateException.class, () -> p.submit(REF));
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
        p.close(); // idempotent
    }
}
