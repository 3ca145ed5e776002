package dev.diffuse.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

import dev.diffuse.pipeline.PipelineObserver;
import dev.diffuse.pipeline.SampleRequest;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * The server's Prometheus metrics (Micrometer): answers by outcome, images, the pipeline's queue, batch sizes, and
 * histograms of request latency (submission to completion), queueing time and batch time; the process's resident
 * memory; JVM memory and threads. Fed by the HTTP handler ({@link #answered}) and by the pipeline
 * ({@link PipelineObserver}, on its worker thread: every hook is a few atomic updates).
 */
final class ServerMetrics implements PipelineObserver {
    /** Outcomes of {@code POST /v1/samples}, the label of {@code diffuse_requests_total}. */
    enum Answer { OK, BAD_REQUEST, TOO_LARGE, QUEUE_FULL, TIMEOUT, UNAVAILABLE, FAILED }

    private static final double[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096};
    private static final Duration[] TIME_BUCKETS = {ms(10), ms(25), ms(50), ms(100), ms(250), ms(500), ms(1000), ms(2500), ms(5000),
            ms(10_000), ms(25_000), ms(60_000), ms(120_000), ms(300_000), ms(600_000)};

    final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter[] answers = new Counter[Answer.values().length];
    private final Counter images;
    private final DistributionSummary batchImages, batchRequests;
    private final Timer batchTime, queued;
    private final Timer[] latency = new Timer[Outcome.values().length];

    ServerMetrics() {
        for (Answer a : Answer.values())
            answers[a.ordinal()] = Counter.builder("diffuse.requests").description("POST /v1/samples answers by outcome")
                    .tag("outcome", a.name().toLowerCase(Locale.ROOT)).register(registry);
        images = Counter.builder("diffuse.images").description("images produced").register(registry);
        batchImages = DistributionSummary.builder("diffuse.batch.images").description("images per batched forward")
                .serviceLevelObjectives(BATCH_BUCKETS).register(registry);
        batchRequests = DistributionSummary.builder("diffuse.batch.requests").description("requests sharing a batch")
                .serviceLevelObjectives(BATCH_BUCKETS).register(registry);
        batchTime = Timer.builder("diffuse.batch.duration").description("time of one batch (all its network evaluations)")
                .serviceLevelObjectives(TIME_BUCKETS).register(registry);
        queued = Timer.builder("diffuse.request.queued").description("from submission to the request's first batch")
                .serviceLevelObjectives(TIME_BUCKETS).register(registry);
        for (Outcome o : Outcome.values())
            latency[o.ordinal()] = Timer.builder("diffuse.request.duration").description("from submission to completion, by pipeline outcome")
                    .tag("outcome", o.name().toLowerCase(Locale.ROOT)).serviceLevelObjectives(TIME_BUCKETS).register(registry);
        Gauge.builder("diffuse.process.resident", ServerMetrics::residentBytes).baseUnit("bytes")
                .description("resident set size of the server process (VmRSS; NaN where /proc is absent)").register(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
    }

    /** Reports the pipeline's queue length (requests waiting or running) as {@code diffuse_queue_requests}. */
    void queueLength(IntSupplier queuedRequests) {
        Gauge.builder("diffuse.queue.requests", queuedRequests::getAsInt).description("requests waiting or running in the pipeline").register(registry);
    }

    void answered(Answer a) { answers[a.ordinal()].increment(); }

    @Override
    public void onBatch(int rows, int requests, int evaluations, long nanos) {
        images.increment(rows);
        batchImages.record(rows);
        batchRequests.record(requests);
        batchTime.record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void onRequestDone(SampleRequest request, Outcome outcome, long queuedNanos, long totalNanos) {
        if (queuedNanos >= 0) queued.record(queuedNanos, TimeUnit.NANOSECONDS);
        latency[outcome.ordinal()].record(totalNanos, TimeUnit.NANOSECONDS);
    }

    /** The Prometheus text exposition (format 0.0.4). */
    String scrape() { return registry.scrape(); }

    /** VmRSS of this process in bytes from /proc/self/status, NaN where it cannot be read. */
    static double residentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status")))
                if (line.startsWith("VmRSS:")) return 1024.0 * Long.parseLong(line.replaceAll("[^0-9]", ""));
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }

    private static Duration ms(long m) { return Duration.ofMillis(m); }
}
