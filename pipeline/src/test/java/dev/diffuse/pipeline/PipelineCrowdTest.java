package dev.diffuse.pipeline;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.TestDevices;

/**
 * The pipeline's contract under concurrency: 8 threads x 25 requests through one pipeline (coalesced into shared
 * batches) get, for every request, exactly the bits of that request run alone. The requests mix samplers (so some
 * share batches and some cannot), stochastic steps (ddpm, DDIM with eta), class labels (fixed and cycling),
 * classifier-free guidance, and sizes above the batch (split in chunks). A violation means that a row's result depends
 * on its batch: noise keyed by batch row, or a network kernel whose arithmetic changes with the batch size.
 */
class PipelineCrowdTest {
    static final int THREADS = 8, PER_THREAD = 25;

    @TempDir
    Path dir;

    static SampleRequest request(int t, int i) {
        int k = t * PER_THREAD + i;
        SampleRequest.Builder b = SampleRequest.builder().n(new int[]{1, 2, 3, 5, 11}[k % 5]).seed(1000L + k * 7919L).steps(2 + k % 2);
        switch (k % 4) {
            case 0 -> b.sampler("ddim");
            case 1 -> b.sampler("ddim").eta(0.5);
            case 2 -> b.sampler("ddpm");
            default -> b.sampler("ode-euler");
        }
        if (k % 3 == 1) b.classLabel(k % 2);
        if (k % 7 == 3) b.guidance(2.5);
        return b.build();
    }

    @Test
    void eightThreadsTimesTwentyFiveRequestsGetExactlyTheirImagesAlone() throws Exception {
        run(TestDevices.java());
    }

    @Test
    void theSameHoldsOnOpenCl() throws Exception {
        run(TestDevices.openCl());
    }

    private void run(Device device) throws Exception {
        Path model = TinyModels.conditional(dir.resolve("tiny-" + device.id().replace(':', '_')));
        PipelineOptions alone = PipelineOptions.builder().maxBatch(8).batchWindow(Duration.ZERO).build();
        float[][] reference = new float[THREADS * PER_THREAD][];
        try (DiffusionPipeline p = DiffusionPipeline.load(model, device, alone)) {
            for (int t = 0; t < THREADS; t++)
                for (int i = 0; i < PER_THREAD; i++) reference[t * PER_THREAD + i] = p.sample(request(t, i)).images().data();
        }
        PipelineOptions crowd = PipelineOptions.builder().maxBatch(8).batchWindow(Duration.ofMillis(20)).build();
        try (DiffusionPipeline p = DiffusionPipeline.load(model, device, crowd)) {
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            List<Future<List<float[]>>> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int tt = t;
                threads.add(pool.submit(() -> {
                    List<Future<SampleResult>> mine = new ArrayList<>();
                    for (int i = 0; i < PER_THREAD; i++) mine.add(p.submit(request(tt, i)));
                    List<float[]> out = new ArrayList<>();
                    for (Future<SampleResult> f : mine) out.add(f.get(5, TimeUnit.MINUTES).images().data());
                    return out;
                }));
            }
            for (int t = 0; t < THREADS; t++) {
                List<float[]> got = threads.get(t).get(10, TimeUnit.MINUTES);
                for (int i = 0; i < PER_THREAD; i++) {
                    int k = t * PER_THREAD + i;
                    assertBitsEqual(reference[k], got.get(i), device.id() + " thread " + t + " request " + i + " " + request(t, i));
                }
            }
            pool.shutdown();
            PipelineStats s = p.stats();
            assertEquals(THREADS * PER_THREAD, s.completed());
            assertTrue(s.batchedRequests() > s.batches() * 1.5, "requests shared batches: " + s);
        }
    }

    static void assertBitsEqual(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++)
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i]))
                fail(what + ": value " + i + " is " + actual[i] + " in the crowd but " + expected[i] + " alone");
    }
}
