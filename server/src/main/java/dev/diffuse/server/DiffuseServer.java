package dev.diffuse.server;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import dev.diffuse.pipeline.DiffusionPipeline;
import dev.diffuse.pipeline.PipelineObserver;
import dev.diffuse.pipeline.PipelineOptions;
import dev.diffuse.pipeline.SampleRequest;
import dev.diffuse.runtime.Device;
import io.helidon.common.media.type.MediaTypes;
import io.helidon.http.HttpException;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * An HTTP service over one {@link DiffusionPipeline}, on Helidon SE's webserver (one virtual thread per request, so a
 * handler simply blocks on its request's future):
 * <ul>
 *   <li>{@code POST /v1/samples}: a JSON {@link SampleRequest} ({@link RequestJson}); answers a PNG grid
 *       ({@code Accept: image/png}, seed and settings in {@code X-Diffuse-*} headers) or JSON with one base64 PNG per
 *       image and the resolved request (seed, sampler, steps). 400 for bad JSON or values, 413 for n over the limit or
 *       a request over the memory budget, 429 with Retry-After when the queue is full, 503 with Retry-After on timeout
 *       or while shutting down; every error is one line of JSON, never a stack trace.</li>
 *   <li>{@code GET /healthz}, {@code GET /v1/model} (config, objective, defaults, limits), {@code GET /metrics}
 *       (Prometheus text format, {@link ServerMetrics}).</li>
 * </ul>
 * {@link #shutdown} is graceful: new samples are refused (503), every queued request is finished and answered, then the
 * listener stops.
 * <pre>{@code
 * try (DiffuseServer s = DiffuseServer.start(Path.of("pretrained/fashion-mnist-small"), Devices.select("auto"),
 *         PipelineOptions.defaults(), ServerConfig.defaults().withPort(0))) {
 *     System.out.println("listening on " + s.url());
 *     s.awaitShutdown();
 * }
 * }</pre>
 */
public final class DiffuseServer implements AutoCloseable {
    private final DiffusionPipeline pipeline;
    private final ServerConfig config;
    private final ServerMetrics metrics;
    private final SamplesHandler samples;
    private final WebServer web;
    private final int maxQueued;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean draining;
    private boolean shutDown;

    /** Bodies up to this size are read before a refusal (see the constructor); 1 MiB. */
    static final long TRANSPORT_BODY_LIMIT = 1 << 20;

    private DiffuseServer(DiffusionPipeline pipeline, ServerConfig config, ServerMetrics metrics, int maxQueued) {
        this.pipeline = pipeline;
        this.maxQueued = maxQueued;
        this.config = config;
        this.metrics = metrics;
        metrics.queueLength(() -> pipeline.stats().queuedRequests());
        this.samples = new SamplesHandler(pipeline, config, metrics);
        ModelDocument model = new ModelDocument(pipeline, config, maxQueued);
        this.web = WebServer.builder()
                .host(config.host()).port(config.port())
                // The handler reads bodies up to TRANSPORT_BODY_LIMIT and answers 413 over maxBodyBytes itself: a server
                // that refuses a body it has not read closes the connection with unread bytes, the kernel then resets
                // it, and the client may lose the 413 answer (seen as "no bytes" in the client). Larger bodies still
                // get the transport's 413.
                .maxPayloadSize(Math.max(config.maxBodyBytes(), TRANSPORT_BODY_LIMIT))
                .shutdownHook(false) // the owner calls shutdown() (the CLI on SIGTERM), which drains the queue first
                .routing(r -> routes(r, model))
                .build()
                .start();
    }

    /**
     * Loads the model folder into a pipeline with {@code options} (their observer is kept and the server's metrics are
     * added) and starts listening.
     * <pre>{@code
     * DiffuseServer s = DiffuseServer.start(dir, device, PipelineOptions.builder().maxBatch(16).build(), ServerConfig.defaults());
     * }</pre>
     */
    public static DiffuseServer start(Path model, Device device, PipelineOptions options, ServerConfig config) throws IOException {
        ServerMetrics metrics = new ServerMetrics();
        PipelineObserver theirs = options.observer();
        PipelineObserver both = new PipelineObserver() {
            @Override
            public void onBatch(int rows, int requests, int evaluations, long nanos) {
                metrics.onBatch(rows, requests, evaluations, nanos);
                theirs.onBatch(rows, requests, evaluations, nanos);
            }

            @Override
            public void onRequestDone(SampleRequest r, Outcome o, long queuedNanos, long totalNanos) {
                metrics.onRequestDone(r, o, queuedNanos, totalNanos);
                theirs.onRequestDone(r, o, queuedNanos, totalNanos);
            }
        };
        PipelineOptions withMetrics = new PipelineOptions(options.maxBatch(), options.maxMemoryBytes(), options.batchWindow(),
                options.maxQueuedRequests(), both);
        DiffusionPipeline p = DiffusionPipeline.load(model, device, withMetrics);
        try {
            return new DiffuseServer(p, config, metrics, options.maxQueuedRequests());
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }

    private void routes(HttpRouting.Builder r, ModelDocument model) {
        r.post("/v1/samples", this::handleSamples)
                .get("/healthz", (req, res) -> {
                    if (draining) Answer.error(res, Status.SERVICE_UNAVAILABLE_503, "shutting down: finishing queued requests", config.retryAfter().toSeconds());
                    else Answer.json(res, Status.OK_200, java.util.Map.of("status", "ok", "queued", pipeline.stats().queuedRequests()));
                })
                .get("/v1/model", (req, res) -> Answer.json(res, Status.OK_200, model.json()))
                .get("/metrics", (req, res) -> {
                    res.headers().contentType(MediaTypes.create("text/plain; version=0.0.4; charset=utf-8"));
                    res.send(metrics.scrape());
                })
                .error(HttpException.class, (req, res, e) -> Answer.error(res, e.status(), e.getMessage(), config.retryAfter().toSeconds()))
                .error(RuntimeException.class, (req, res, e) -> {
                    System.err.println("diffuse serve: internal error on " + req.prologue().uriPath().path() + ": " + e);
                    Answer.error(res, Status.INTERNAL_SERVER_ERROR_500, "internal error: " + e.getClass().getSimpleName(), 0);
                });
    }

    private void handleSamples(ServerRequest req, ServerResponse res) {
        if (draining) {
            metrics.answered(ServerMetrics.Answer.UNAVAILABLE);
            Answer.error(res, Status.SERVICE_UNAVAILABLE_503, "shutting down: this server takes no new requests", config.retryAfter().toSeconds());
            return;
        }
        inFlight.incrementAndGet();
        try {
            samples.handle(req, res);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /**
     * The port listened on (the one picked when the config asked for 0).
     * <pre>{@code
     * int port = server.port();
     * }</pre>
     */
    public int port() { return web.port(); }

    /**
     * The base URL, e.g. {@code http://127.0.0.1:8080}.
     * <pre>{@code
     * URI samples = URI.create(server.url() + "/v1/samples");
     * }</pre>
     */
    public String url() { return "http://" + (config.host().contains(":") ? "[" + config.host() + "]" : config.host()) + ":" + port(); }

    /**
     * The pipeline behind the server (for its stats and info).
     * <pre>{@code
     * long images = server.pipeline().stats().images();
     * }</pre>
     */
    public DiffusionPipeline pipeline() { return pipeline; }

    /**
     * Graceful shutdown: refuses new samples (503), finishes and answers every queued request, waits (at most the
     * request timeout) for their answers to be written, then stops listening and frees the model. Idempotent; safe to
     * call from a shutdown hook (SIGTERM).
     * <pre>{@code
     * Runtime.getRuntime().addShutdownHook(new Thread(server::shutdown));
     * }</pre>
     */
    public void shutdown() {
        synchronized (this) {
            if (shutDown) return;
            shutDown = true;
        }
        draining = true;
        try {
            pipeline.close(); // finishes every queued request; their handlers then write the answers
            long deadline = System.nanoTime() + config.requestTimeout().plusSeconds(5).toNanos();
            while (inFlight.get() > 0 && System.nanoTime() < deadline) Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            web.stop();
            stopped.countDown();
        }
    }

    /**
     * Blocks until {@link #shutdown} has finished.
     * <pre>{@code
     * server.awaitShutdown();
     * }</pre>
     */
    public void awaitShutdown() throws InterruptedException { stopped.await(); }

    /** {@link #shutdown}. */
    @Override
    public void close() { shutdown(); }

    /** Prints where the server listens and what it serves (the CLI's first lines). */
    public void describe(PrintStream out) {
        var i = pipeline.info();
        out.printf("serving %s (%s, %s, default %s %d steps) on %s with batches of up to %d, queue %d, timeout %s%n", i.folder(), i.modelClass(),
                i.objective().label(), i.defaultSampler(), i.defaultSteps(), pipeline.device().name(), i.maxBatch(),
                maxQueued, human(config.requestTimeout()));
        out.println("listening on " + url() + "  (POST /v1/samples, GET /healthz, /v1/model, /metrics)");
        out.flush();
    }

    private static String human(Duration d) { return d.toSeconds() + " s"; }
}
