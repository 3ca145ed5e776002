package dev.diffuse.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

import dev.diffuse.pipeline.PipelineOptions;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Devices;
import dev.diffuse.server.DiffuseServer;
import dev.diffuse.server.ServerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code diffuse serve}: an HTTP service over one model ({@link DiffuseServer}); SIGTERM (Ctrl-C) finishes queued requests, then exits. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Serve a model over HTTP: POST /v1/samples (JSON request, e.g. {\"n\": 4, \"seed\": 7}; a PNG grid with "
                + "'Accept: image/png', else JSON with one base64 PNG per image and the seed used), GET /healthz, GET /v1/model, "
                + "GET /metrics (Prometheus). Concurrent requests are batched. SIGTERM finishes queued requests before exiting.",
                "Example: curl -s -H 'Accept: image/png' -d '{\"n\": 16, \"seed\": 7}' http://127.0.0.1:8080/v1/samples > grid.png"})
public final class ServeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "a diffusers folder, a checkpoint or a run folder, e.g. pretrained/fashion-mnist-small")
    Path model;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to bind (default ${DEFAULT-VALUE}: this machine only)")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "port (0: any free one; default ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--device", defaultValue = "auto", description = "auto | java | cl | cl:gpu | cl:cpu | cl:P:I (default ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--batch", defaultValue = "16", description = "most images per batched forward; 1 turns dynamic batching off (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--batch-window-ms", defaultValue = "5", description = "how long a batch that is not full waits for company (default ${DEFAULT-VALUE})")
    int windowMs;

    @Option(names = "--max-queue", defaultValue = "256", description = "requests waiting or running before 429 (default ${DEFAULT-VALUE})")
    int maxQueue;

    @Option(names = "--max-n", defaultValue = "64", description = "most images per request, more gets 413 (default ${DEFAULT-VALUE})")
    int maxN;

    @Option(names = "--max-steps", defaultValue = "250", description = "most sampler steps per request, more gets 400 (default ${DEFAULT-VALUE})")
    int maxSteps;

    @Option(names = "--timeout", defaultValue = "120", paramLabel = "SECONDS", description = "a request waiting and running longer is cancelled, 503 (default ${DEFAULT-VALUE})")
    int timeoutSeconds;

    @Override
    public Integer call() throws Exception {
        if (windowMs < 0 || windowMs > 10_000) throw new IllegalArgumentException("--batch-window-ms must be in 0..10000, got " + windowMs);
        if (timeoutSeconds < 1) throw new IllegalArgumentException("--timeout must be at least 1 second, got " + timeoutSeconds);
        ServerConfig cfg = new ServerConfig(host, port, maxN, maxSteps, Duration.ofSeconds(timeoutSeconds), Duration.ofSeconds(1), 16 << 10);
        PipelineOptions opts = PipelineOptions.builder().maxBatch(batch).batchWindow(Duration.ofMillis(windowMs)).maxQueuedRequests(maxQueue).build();
        Device d = Devices.select(device);
        DiffuseServer server = DiffuseServer.start(model, d, opts, cfg);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("diffuse serve: stopping, finishing queued requests");
            server.shutdown();
            System.out.println("diffuse serve: stopped (" + server.pipeline().stats().completed() + " requests served)");
        }, "diffuse-serve-shutdown"));
        server.describe(System.out);
        server.awaitShutdown();
        return 0;
    }
}
