package dev.diffuse.server;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;

import javax.imageio.ImageIO;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A bounded loopback load test of a running {@code diffuse serve}: C clients, each sending M requests one after the
 * other (seed = first seed + client * M + i), every answer checked (status 200, the seed and image count echoed, every
 * PNG decodes to the model's size) and every k-th one compared pixel for pixel with the reference images of its seed.
 * Every loop is bounded in count and by a deadline; requests not sent before the deadline are counted, not hidden.
 * <pre>{@code
 * LoadTest.Result r = LoadTest.run(new LoadTest.Options(URI.create(server.url()), 4, 25, 1, 1, null, Duration.ofMinutes(2), 5, 1000),
 *         seed -> referencePixels(seed));
 * }</pre>
 */
public final class LoadTest {
    /**
     * @param base       the server, e.g. http://127.0.0.1:8080 (only loopback addresses are accepted)
     * @param clients    concurrent clients C, e.g. 16
     * @param requests   requests per client M, e.g. 125
     * @param images     images per request, e.g. 1
     * @param steps      sampler steps per request, e.g. 2
     * @param sampler    sampler name, null for the model's default
     * @param deadline   the whole run's time limit, e.g. 5 minutes
     * @param checkEvery compare every k-th request with the reference (0: none), e.g. 10
     * @param firstSeed  seed of client 0's first request
     */
    public record Options(URI base, int clients, int requests, int images, int steps, String sampler, Duration deadline, int checkEvery, long firstSeed) {
        public Options {
            String h = base.getHost();
            if (!("127.0.0.1".equals(h) || "localhost".equals(h) || "[::1]".equals(h) || "::1".equals(h)))
                throw new IllegalArgumentException("the load test runs against loopback only (127.0.0.1), got " + base);
            if (clients < 1 || clients > 1024 || requests < 1 || requests > 1_000_000 || images < 1 || steps < 1)
                throw new IllegalArgumentException("load test: need 1..1024 clients, 1..1e6 requests each, n >= 1, steps >= 1");
            if (deadline == null || deadline.isNegative() || deadline.isZero()) throw new IllegalArgumentException("load test: the deadline must be positive");
        }
    }

    /**
     * @param sent         requests sent
     * @param ok           answered 200 with a correct body
     * @param failed       answered otherwise, or not at all (with the first failures in {@code failures})
     * @param wrong        answered 200 but with other images than the reference (of those compared)
     * @param compared     requests compared with the reference
     * @param notSent      requests left when the deadline passed
     * @param images       images received
     * @param seconds      wall time of the run
     * @param p50Millis    median latency of the answered requests
     * @param p99Millis    99th percentile latency
     * @param rssStart     the server's resident memory before the run (diffuse_process_resident_bytes), NaN if unknown
     * @param rssEnd       the same after the run
     * @param meanBatch    the server's mean images per batch over the run
     */
    public record Result(int sent, int ok, int failed, int wrong, int compared, int notSent, long images, double seconds, double p50Millis,
                         double p99Millis, double rssStart, double rssEnd, double meanBatch, List<String> failures) {
        /** Images per second over the run. */
        public double imagesPerSecond() { return images / seconds; }

        /** One line for a log. */
        public String summary() {
            return String.format(Locale.ROOT, "%d requests: %d ok, %d failed, %d wrong of %d compared, %d not sent; %.2f images/s, p50 %.0f ms, "
                            + "p99 %.0f ms, %.1f images per batch, RSS %.0f -> %.0f MiB", sent, ok, failed, wrong, compared, notSent,
                    imagesPerSecond(), p50Millis, p99Millis, meanBatch, rssStart / (1 << 20), rssEnd / (1 << 20));
        }
    }

    private LoadTest() {}

    /**
     * Runs the load: {@code reference} gives, for a seed, the expected pixels of each image of a request with that seed
     * (as {@link #pixels} decodes them), e.g. computed by a local pipeline on the same model and device.
     */
    public static Result run(Options o, LongFunction<byte[][]> reference) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).executor(Executors.newFixedThreadPool(Math.min(o.clients(), 16))).build();
        try (http) {
            double rss0 = gauge(http, o.base(), "diffuse_process_resident_bytes");
            double images0 = gauge(http, o.base(), "diffuse_batch_images_sum"), batches0 = gauge(http, o.base(), "diffuse_batch_images_count");
            long deadline = System.nanoTime() + o.deadline().toNanos();
            AtomicInteger sent = new AtomicInteger(), ok = new AtomicInteger(), wrong = new AtomicInteger(), compared = new AtomicInteger(), notSent = new AtomicInteger();
            AtomicLong images = new AtomicLong();
            List<String> failures = Collections.synchronizedList(new ArrayList<>());
            List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
            long t0 = System.nanoTime();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<?>> clients = new ArrayList<>();
                for (int c = 0; c < o.clients(); c++) {
                    int client = c;
                    clients.add(pool.submit(() -> {
                        for (int i = 0; i < o.requests(); i++) {
                            if (System.nanoTime() > deadline) {
                                notSent.addAndGet(o.requests() - i);
                                return null;
                            }
                            long seed = o.firstSeed() + (long) client * o.requests() + i;
                            boolean check = o.checkEvery() > 0 && (client * o.requests() + i) % o.checkEvery() == 0;
                            sent.incrementAndGet();
                            long s = System.nanoTime();
                            String problem;
                            try {
                                byte[][] got = request(http, o, seed, Math.max(1, (deadline - s) / 1_000_000));
                                latencies.add(System.nanoTime() - s);
                                images.addAndGet(got.length);
                                problem = null;
                                if (check) {
                                    compared.incrementAndGet();
                                    byte[][] want = reference.apply(seed);
                                    if (!Arrays.deepEquals(want, got)) {
                                        wrong.incrementAndGet();
                                        problem = "seed " + seed + ": images differ from the reference";
                                    }
                                }
                            } catch (IOException | RuntimeException e) {
                                problem = "seed " + seed + ": " + e.getMessage();
                            }
                            if (problem == null) ok.incrementAndGet();
                            else if (failures.size() < 10) failures.add(problem);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : clients) {
                    try {
                        f.get();
                    } catch (java.util.concurrent.ExecutionException e) {
                        failures.add("client failed: " + e.getCause());
                    }
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            double rss1 = gauge(http, o.base(), "diffuse_process_resident_bytes");
            double images1 = gauge(http, o.base(), "diffuse_batch_images_sum"), batches1 = gauge(http, o.base(), "diffuse_batch_images_count");
            long[] lat = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
            int failed = sent.get() - ok.get() - wrong.get();
            return new Result(sent.get(), ok.get(), failed, wrong.get(), compared.get(), notSent.get(), images.get(), seconds, pct(lat, 0.5), pct(lat, 0.99),
                    rss0, rss1, (images1 - images0) / Math.max(1, batches1 - batches0), List.copyOf(failures));
        }
    }

    /** One request; the decoded pixels of each image, or an IOException saying what was wrong with the answer. */
    private static byte[][] request(HttpClient http, Options o, long seed, long timeoutMs) throws IOException, InterruptedException {
        String body = String.format(Locale.ROOT, "{\"n\": %d, \"steps\": %d, \"seed\": %d%s}", o.images(), o.steps(), seed,
                o.sampler() == null ? "" : ", \"sampler\": \"" + o.sampler() + "\"");
        HttpRequest req = HttpRequest.newBuilder(o.base().resolve("/v1/samples")).timeout(Duration.ofMillis(timeoutMs))
                .header("Content-Type", "application/json").header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        HttpResponse<byte[]> res = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
        if (res.statusCode() != 200) throw new IOException("HTTP " + res.statusCode() + ": " + new String(res.body()).strip());
        JsonNode doc = Answer.JSON.readTree(res.body());
        if (doc.path("seed").asLong(-1) != seed) throw new IOException("answer for seed " + seed + " says seed " + doc.path("seed"));
        JsonNode imgs = doc.path("images");
        if (!imgs.isArray() || imgs.size() != o.images()) throw new IOException("expected " + o.images() + " images, got " + imgs.size());
        byte[][] out = new byte[imgs.size()][];
        for (int i = 0; i < out.length; i++) out[i] = pixels(Base64.getDecoder().decode(imgs.get(i).asText()));
        return out;
    }

    /**
     * The 8-bit pixels of a PNG (gray or RGB, row-major), for comparing answers without depending on the encoder's bytes.
     * <pre>{@code
     * byte[] want = LoadTest.pixels(images.png(0));
     * }</pre>
     */
    public static byte[] pixels(byte[] png) throws IOException {
        var img = ImageIO.read(new ByteArrayInputStream(png));
        if (img == null) throw new IOException("not a PNG image");
        int w = img.getWidth(), h = img.getHeight(), bands = img.getRaster().getNumBands();
        byte[] out = new byte[w * h * bands];
        int[] px = img.getRaster().getPixels(0, 0, w, h, (int[]) null);
        for (int i = 0; i < px.length; i++) out[i] = (byte) px[i];
        return out;
    }

    /** A gauge or counter from the server's /metrics (the first sample of that name), NaN when absent. */
    static double gauge(HttpClient http, URI base, String name) throws IOException, InterruptedException {
        HttpResponse<String> res = http.send(HttpRequest.newBuilder(base.resolve("/metrics")).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        for (String line : res.body().split("\n"))
            if (line.startsWith(name + " ") || line.startsWith(name + "{")) return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        return Double.NaN;
    }

    private static double pct(long[] sorted, double q) {
        if (sorted.length == 0) return Double.NaN;
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)] / 1e6;
    }
}
