package dev.diffuse.server;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.diffuse.pipeline.DiffusionPipeline;
import dev.diffuse.pipeline.Images;
import dev.diffuse.pipeline.PipelineOptions;
import dev.diffuse.pipeline.SampleRequest;
import dev.diffuse.runtime.TestDevices;

/** diffuse serve's endpoints on the shipped model (1-step requests), with the answers checked against a local pipeline. */
class ServerTest {
    static DiffuseServer server;
    static DiffusionPipeline reference;

    @BeforeAll
    static void start() throws IOException {
        server = DiffuseServer.start(Http.shippedModel(), TestDevices.java(), PipelineOptions.builder().maxBatch(8).build(),
                ServerConfig.defaults().withPort(0).withLimits(16, 50, Duration.ofSeconds(60)));
        reference = DiffusionPipeline.load(Http.shippedModel(), TestDevices.java(), PipelineOptions.builder().maxBatch(4).build());
    }

    @AfterAll
    static void stop() {
        if (server != null) server.shutdown();
        if (reference != null) reference.close();
    }

    @Test
    void pngGridAndJsonImagesAreTheImagesOfTheirSeed() throws Exception {
        HttpResponse<byte[]> png = Http.post(server, "{\"n\": 4, \"steps\": 1, \"seed\": 7}", "image/png");
        assertEquals(200, png.statusCode(), new String(png.body()));
        assertEquals("image/png", png.headers().firstValue("Content-Type").orElseThrow());
        assertEquals("7", png.headers().firstValue("X-Diffuse-Seed").orElseThrow());
        assertEquals("ddim", png.headers().firstValue("X-Diffuse-Sampler").orElseThrow());
        Images want = reference.sample(SampleRequest.builder().n(4).steps(1).seed(7).build()).images();
        assertArrayEquals(LoadTest.pixels(want.gridPng()), LoadTest.pixels(png.body()));

        HttpResponse<byte[]> js = Http.post(server, "{\"n\": 3, \"steps\": 1}", "application/json");
        assertEquals(200, js.statusCode(), new String(js.body()));
        JsonNode doc = Http.json(js.body());
        long seed = doc.get("seed").asLong();
        assertEquals(3, doc.get("images").size());
        assertEquals(1, doc.get("steps").asInt());
        assertEquals("[1,28,28]", doc.get("shape").toString());
        Images again = reference.sample(SampleRequest.builder().n(3).steps(1).seed(seed).build()).images();
        for (int i = 0; i < 3; i++)
            assertArrayEquals(LoadTest.pixels(again.png(i)), LoadTest.pixels(Base64.getDecoder().decode(doc.get("images").get(i).asText())), "image " + i);
    }

    @Test
    void healthModelAndMetrics() throws Exception {
        HttpResponse<String> h = Http.get(server, "/healthz");
        assertEquals(200, h.statusCode());
        assertEquals("ok", Http.json(h.body().getBytes()).get("status").asText());
        JsonNode m = Http.json(Http.get(server, "/v1/model").body().getBytes());
        assertEquals("epsilon", m.at("/objective/kind").asText());
        assertEquals("ddim", m.get("defaultSampler").asText());
        assertEquals(25, m.get("defaultSteps").asInt());
        assertEquals(28, m.at("/config/sample_size").asInt());
        assertEquals(16, m.at("/limits/maxImages").asInt());
        assertFalse(m.get("supportsGuidance").asBoolean());

        Http.post(server, "{\"n\": 1, \"steps\": 1}", "application/json");
        Http.post(server, "{\"n\": 0}", "application/json");
        HttpResponse<String> metrics = Http.get(server, "/metrics");
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.headers().firstValue("Content-Type").orElseThrow().startsWith("text/plain"));
        String t = metrics.body();
        for (String name : List.of("diffuse_requests_total{outcome=\"ok\"}", "diffuse_requests_total{outcome=\"bad_request\"}",
                "diffuse_images_total", "diffuse_queue_requests", "diffuse_batch_images_bucket{le=\"8.0\"}",
                "diffuse_request_duration_seconds_bucket{outcome=\"completed\"", "diffuse_request_queued_seconds_count", "diffuse_process_resident_bytes"))
            assertTrue(t.contains(name), "metrics lack " + name);
        assertTrue(LoadTest.gauge(Http.CLIENT, java.net.URI.create(server.url()), "diffuse_process_resident_bytes") > 1e6);
    }

    @Test
    void badRequestsGetOneLineReasons() throws Exception {
        String[][] cases = {
                {"{\"n\": 2", "400", "not valid JSON"},
                {"[1, 2]", "400", "must be a JSON object"},
                {"{\"n\": 2} x", "400", "not valid JSON"},
                {"{\"count\": 2}", "400", "unknown field 'count'"},
                {"{\"n\": \"two\"}", "400", "n must be an integer"},
                {"{\"n\": 2.5}", "400", "n must be an integer"},
                {"{\"n\": 0}", "400", "n must be in 1.."},
                {"{\"n\": 99999999999}", "400", "n must be an integer"},
                {"{\"seed\": -1}", "400", "seed must be an integer in 0..2^63-1"},
                {"{\"sampler\": \"warp\"}", "400", "sampler must be one of"},
                {"{\"sampler\": \"flow-heun\"}", "400", "flow"},
                {"{\"steps\": 51}", "400", "steps must be at most 50"},
                {"{\"classLabel\": 3}", "400", "unconditional"},
                {"{\"guidance\": 3}", "400", "guidance"},
                {"{\"eta\": 2}", "400", "eta must be in [0, 1]"},
                {"{\"clip\": \"yes\"}", "400", "clip must be true or false"},
                {"{\"n\": 17}", "413", "over this server's limit of 16"},
                {"{\"n\": 1, \"pad\": \"" + "x".repeat(20_000) + "\"}", "413", "over this server's limit of 16384"},
        };
        for (String[] c : cases) {
            HttpResponse<byte[]> r = Http.post(server, c[0], "application/json");
            String body = new String(r.body());
            String shown = c[0].length() > 40 ? c[0].substring(0, 40) : c[0];
            assertEquals(Integer.parseInt(c[1]), r.statusCode(), shown + " -> " + body);
            assertTrue(body.strip().indexOf('\n') < 0, "one line: " + body);
            assertFalse(body.contains("Exception") || body.contains("\tat ") || body.contains("dev.diffuse."), "no stack trace: " + body);
            if (r.statusCode() != 413 || !c[2].isEmpty()) {
                assertTrue(Http.json(r.body()).get("error").asText().contains(c[2]), shown + " -> " + body);
            }
        }
        HttpResponse<byte[]> after = Http.post(server, "{\"n\": 1, \"steps\": 1, \"seed\": 3}", "application/json");
        assertEquals(200, after.statusCode(), "the server still serves after the refusals");
    }

    @Test
    void fullQueueGets429AndATimedOutRequestIsCancelledWith503() throws Exception {
        try (DiffuseServer s = DiffuseServer.start(Http.shippedModel(), TestDevices.java(),
                PipelineOptions.builder().maxBatch(2).maxQueuedRequests(1).build(),
                ServerConfig.defaults().withPort(0).withLimits(4, 1000, Duration.ofSeconds(8)))) {
            CompletableFuture<HttpResponse<byte[]>> slow = CompletableFuture.supplyAsync(() -> {
                try {
                    return Http.post(s, "{\"n\": 1, \"steps\": 1000}", "application/json");
                } catch (IOException | InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
            long until = System.nanoTime() + 10_000_000_000L;
            while (s.pipeline().stats().queuedRequests() < 1 && System.nanoTime() < until) Thread.sleep(5);
            HttpResponse<byte[]> busy = Http.post(s, "{\"n\": 1, \"steps\": 1}", "application/json");
            assertEquals(429, busy.statusCode(), new String(busy.body()));
            assertEquals("1", busy.headers().firstValue("Retry-After").orElseThrow());

            HttpResponse<byte[]> timedOut = slow.get();
            assertEquals(503, timedOut.statusCode(), new String(timedOut.body()));
            assertTrue(new String(timedOut.body()).contains("timed out after 8.0 s"));
            assertTrue(timedOut.headers().firstValue("Retry-After").isPresent());
            until = System.nanoTime() + 30_000_000_000L;
            while (s.pipeline().stats().queuedRequests() > 0 && System.nanoTime() < until) Thread.sleep(5);
            assertEquals(1, s.pipeline().stats().cancelled(), "the timed-out request was cancelled, not run to the end");
            // the 8 s of the cancelled request warmed the JIT: a 1-step request now takes well under a second
            HttpResponse<byte[]> again = Http.post(s, "{\"n\": 1, \"steps\": 1}", "application/json");
            assertEquals(200, again.statusCode(), "served again after the cancel: " + new String(again.body()));
        }
    }

    @Test
    void shutdownAnswersEveryQueuedRequestThenRefuses() throws Exception {
        DiffuseServer s = DiffuseServer.start(Http.shippedModel(), TestDevices.java(), PipelineOptions.builder().maxBatch(2).build(),
                ServerConfig.defaults().withPort(0));
        List<CompletableFuture<HttpResponse<byte[]>>> inFlight = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            int seed = 100 + i;
            inFlight.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return Http.post(s, "{\"n\": 1, \"steps\": 2, \"seed\": " + seed + "}", "application/json");
                } catch (IOException | InterruptedException e) {
                    throw new RuntimeException(e);
                }
            }));
        }
        long until = System.nanoTime() + 20_000_000_000L;
        while (s.pipeline().stats().queuedRequests() + s.pipeline().stats().completed() < 6 && System.nanoTime() < until) Thread.sleep(5);
        String url = s.url();
        s.shutdown();
        for (var f : inFlight) assertEquals(200, f.get().statusCode(), new String(f.get().body()));
        assertEquals(6, s.pipeline().stats().completed());
        assertThrows(IOException.class, () -> Http.CLIENT.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url + "/healthz"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()), "no longer listening");
    }
}
