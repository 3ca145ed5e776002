package dev.diffuse.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import dev.diffuse.pipeline.DiffusionPipeline;
import dev.diffuse.pipeline.Images;
import dev.diffuse.pipeline.PipelineOptions;
import dev.diffuse.pipeline.SampleRequest;
import dev.diffuse.pipeline.SampleResult;
import dev.diffuse.runtime.Devices;
import dev.diffuse.server.LoadTest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code diffuse load-test}: starts {@code diffuse serve} in a child process on a free 127.0.0.1 port for each
 * {@code --batch} setting, sends C clients x M requests ({@link LoadTest}), compares every k-th answer with reference
 * images computed here beforehand, and prints one table row per setting (throughput, p50/p99, mean batch, the server's
 * RSS before and after, failures). The server gets SIGTERM at the end and must exit cleanly.
 */
@Command(name = "load-test", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Loopback load test of 'diffuse serve' (a child process per --batch setting): C concurrent clients x M requests, "
                + "throughput, p50/p99 latency, server RSS before/after, answers compared with reference images; prints a Markdown table.")
public final class LoadTestCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR") Path model;
    @Option(names = "--device", defaultValue = "java", description = "the server's (and the reference's) device (default ${DEFAULT-VALUE})") String device;
    @Option(names = "--clients", defaultValue = "16", description = "concurrent clients C (default ${DEFAULT-VALUE})") int clients;
    @Option(names = "--requests", defaultValue = "125", description = "requests per client M (default ${DEFAULT-VALUE})") int requests;
    @Option(names = "--n", defaultValue = "1", description = "images per request (default ${DEFAULT-VALUE})") int n;
    @Option(names = "--steps", defaultValue = "1", description = "sampler steps per request (default ${DEFAULT-VALUE})") int steps;
    @Option(names = "--batch", split = ",", defaultValue = "1,16", description = "server --batch settings to compare; 1 = no dynamic batching (default ${DEFAULT-VALUE})")
    List<Integer> batches;
    @Option(names = "--check-every", defaultValue = "10", description = "compare every k-th answer with the reference (default ${DEFAULT-VALUE})") int checkEvery;
    @Option(names = "--deadline", defaultValue = "600", paramLabel = "SECONDS", description = "time limit of each run (default ${DEFAULT-VALUE})") int deadline;
    @Option(names = "--server-heap", defaultValue = "512m", description = "the server's heap, -Xms = -Xmx, pre-touched (default ${DEFAULT-VALUE})") String heap;

    @Override
    public Integer call() throws Exception {
        if (checkEvery < 0) throw new IllegalArgumentException("--check-every must be >= 0, got " + checkEvery);
        long firstSeed = 1000;
        Map<Long, byte[][]> reference = references(firstSeed);
        List<String> rows = new ArrayList<>();
        boolean allGood = true;
        for (int b : batches) {
            LoadTest.Result r = runAgainstServer(b, firstSeed, reference);
            System.out.println("batch " + b + ": " + r.summary());
            r.failures().forEach(f -> System.out.println("  " + f));
            allGood &= r.failed() == 0 && r.wrong() == 0 && r.notSent() == 0;
            // requests the deadline left unsent show in the row, so that a cut-short run cannot pass for a whole one
            rows.add(String.format(Locale.ROOT, "| %s | %d x %d | %d, %d | %d / %d / %d (%d compared%s) | %.2f | %.0f | %.0f | %.1f | %.0f -> %.0f MiB |",
                    b == 1 ? "off (--batch 1)" : "on (--batch " + b + ")", clients, requests, n, steps, r.ok(), r.failed(), r.wrong(), r.compared(),
                    r.notSent() > 0 ? "; " + r.notSent() + " NOT SENT before the deadline" : "",
                    r.imagesPerSecond(), r.p50Millis(), r.p99Millis(), r.meanBatch(), r.rssStart() / (1 << 20), r.rssEnd() / (1 << 20)));
        }
        System.out.println();
        System.out.println("| dynamic batching | clients x requests | n, steps | ok / failed / wrong | images/s | p50 ms | p99 ms | images per batch | server RSS start -> end |");
        System.out.println("|---|---|---|---|---|---|---|---|---|");
        rows.forEach(System.out::println);
        return allGood ? 0 : 1;
    }

    /** The pixels of every request the run will compare, computed before any server starts (one local pipeline, batched). */
    private Map<Long, byte[][]> references(long firstSeed) throws Exception {
        Map<Long, byte[][]> out = new HashMap<>();
        if (checkEvery == 0) return out;
        try (DiffusionPipeline p = DiffusionPipeline.load(model, Devices.select(device), PipelineOptions.builder().maxBatch(16).build())) {
            Map<Long, Future<SampleResult>> pending = new HashMap<>();
            for (int k = 0; k < clients * requests; k += checkEvery)
                pending.put(firstSeed + k, p.submit(SampleRequest.builder().n(n).steps(steps).seed(firstSeed + k).build()));
            for (var e : pending.entrySet()) {
                Images im = e.getValue().get().images();
                byte[][] px = new byte[n][];
                for (int i = 0; i < n; i++) px[i] = LoadTest.pixels(im.png(i));
                out.put(e.getKey(), px);
            }
        }
        System.out.println("reference images for " + out.size() + " seeds computed");
        return out;
    }

    private LoadTest.Result runAgainstServer(int batch, long firstSeed, Map<Long, byte[][]> reference) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        // a fixed, pre-touched heap: the RSS then shows what the server holds, not the heap growing towards -Xmx
        List<String> cmd = List.of(java, "-Xms" + heap, "-Xmx" + heap, "-XX:+AlwaysPreTouch", "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), DiffuseCommand.class.getName(), "serve", "--model", model.toString(),
                "--port", "0", "--device", device, "--batch", Integer.toString(batch), "--max-queue", Integer.toString(4 * clients),
                "--max-steps", Integer.toString(Math.max(steps, 1)), "--max-n", Integer.toString(n), "--timeout", Integer.toString(deadline));
        Process server = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            // read on its own thread, so that a server that prints nothing cannot hold this run past the 120 s
            ChildServerOutput out = new ChildServerOutput(server, line -> System.out.println("  server: " + line));
            String url = out.awaitUrl(Duration.ofSeconds(120));
            // warm-up (JIT, first batches), not measured: 2 requests per client, seeds outside the measured range
            LoadTest.run(new LoadTest.Options(URI.create(url), clients, 2, n, steps, null, Duration.ofSeconds(deadline), 0, 1L << 40), s -> null);
            LoadTest.Result r = LoadTest.run(new LoadTest.Options(URI.create(url), clients, requests, n, steps, null, Duration.ofSeconds(deadline),
                    checkEvery, firstSeed), seed -> {
                byte[][] px = reference.get(seed);
                if (px == null) throw new UncheckedIOException(new IOException("no reference computed for seed " + seed));
                return px;
            });
            server.destroy(); // SIGTERM: graceful shutdown
            if (!server.waitFor(120, TimeUnit.SECONDS)) throw new IllegalStateException("the server did not stop within 120 s of SIGTERM");
            out.join(5000);
            System.out.println("  server exited with " + server.exitValue() + (server.exitValue() == 143 ? " (128 + SIGTERM, after its shutdown hook)" : ""));
            return r;
        } finally {
            if (server.isAlive()) server.destroyForcibly();
        }
    }
}
