package dev.diffuse.server;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.diffuse.pipeline.DiffusionPipeline;
import dev.diffuse.pipeline.Images;
import dev.diffuse.pipeline.PipelineOptions;
import dev.diffuse.pipeline.SampleRequest;
import dev.diffuse.runtime.TestDevices;

/**
 * The bounded loopback load test with small numbers: 4 clients x 8 one-image requests (ddim, 1 step) against a server
 * on an ephemeral 127.0.0.1 port, every answer checked and every 3rd compared pixel for pixel with a local pipeline's
 * images for its seed; zero failures. (The larger run with timings is {@code diffuse load-test}, docs/serving.md.) And the
 * check can fail: answers compared with another seed's images are counted wrong, not ok.
 */
class ServerLoadTest {
    private static DiffuseServer server() throws Exception {
        return DiffuseServer.start(Http.shippedModel(), TestDevices.java(), PipelineOptions.builder().maxBatch(4).build(), ServerConfig.defaults().withPort(0));
    }

    private static DiffusionPipeline reference() throws Exception {
        return DiffusionPipeline.load(Http.shippedModel(), TestDevices.java(), PipelineOptions.builder().maxBatch(1).build());
    }

    /** The pixels of the one-image, one-step request with this seed, as the load test decodes them. */
    private static byte[][] pixels(DiffusionPipeline ref, long seed) {
        Images im = ref.sample(SampleRequest.builder().n(1).steps(1).seed(seed).build()).images();
        try {
            return new byte[][]{LoadTest.pixels(im.png(0))};
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void concurrentClientsGetTheImagesOfTheirSeedsWithNoFailures() throws Exception {
        try (DiffuseServer s = server(); DiffusionPipeline ref = reference()) {
            LoadTest.Result r = LoadTest.run(new LoadTest.Options(URI.create(s.url()), 4, 8, 1, 1, null, Duration.ofMinutes(5), 3, 1000),
                    seed -> pixels(ref, seed));
            System.out.println("load test: " + r.summary());
            assertEquals(32, r.sent());
            assertEquals(32, r.ok(), r.failures().toString());
            assertEquals(0, r.failed());
            assertEquals(0, r.wrong());
            assertEquals(11, r.compared());
            assertEquals(32, r.images());
            assertTrue(r.meanBatch() >= 1, "batches ran: " + r.meanBatch());
            assertEquals(32, s.pipeline().stats().completed());
        }
    }

    @Test
    void answersThatDifferFromTheReferenceAreCountedWrong() throws Exception {
        try (DiffuseServer s = server(); DiffusionPipeline ref = reference()) {
            // the reference of seed + 1 stands for a server that answers with another request's images
            LoadTest.Result r = LoadTest.run(new LoadTest.Options(URI.create(s.url()), 2, 3, 1, 1, null, Duration.ofMinutes(5), 2, 1000),
                    seed -> pixels(ref, seed + 1));
            assertEquals(6, r.sent());
            assertEquals(3, r.compared());
            assertEquals(3, r.wrong(), r.failures().toString());
            assertEquals(3, r.ok());
            assertEquals(0, r.failed());
            assertTrue(r.failures().stream().allMatch(f -> f.endsWith("images differ from the reference")), r.failures().toString());
        }
    }
}
