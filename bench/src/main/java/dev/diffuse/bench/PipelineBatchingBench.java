package dev.diffuse.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.*;

import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.models.unet.UNet2DModel;
import dev.diffuse.models.unet.UNetCheckpoint;
import dev.diffuse.models.unet.UNetConfig;
import dev.diffuse.pipeline.DiffusionPipeline;
import dev.diffuse.pipeline.PipelineOptions;
import dev.diffuse.pipeline.SampleRequest;
import dev.diffuse.pipeline.SampleResult;

/**
 * Dynamic batching: {@code requests} concurrent one-image requests (ddim, {@code steps} steps, seeds 0..requests-1)
 * through one pipeline whose maxBatch is {@code batch}: 1 = no batching (one forward per request and step), larger =
 * the requests share forwards of up to that many images. One operation = all requests done; images/s = requests / time. Runs on the shipped
 * model (pretrained/fashion-mnist-small, from the project root) or, when it is not there, on a randomly initialised
 * U-Net of the same config (the time does not depend on the weights). GFLOP/s: requests * steps *
 * {@link UNet2DModel#forwardFlops}(small, 1) / time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class PipelineBatchingBench {
    @Param({"java"})
    public String device;

    /** maxBatch of the pipeline: 1 = no batching (one forward per request and step). */
    @Param({"1", "8", "32"})
    public int batch;

    @Param({"32"})
    public int requests;

    @Param({"2"})
    public int steps;

    @Param({"pretrained/fashion-mnist-small"})
    public String model;

    DiffusionPipeline pipeline;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        Path folder = Path.of(model);
        if (!Files.isDirectory(folder)) {
            folder = Files.createTempDirectory("diffuse-bench-model");
            try (UNet2DModel m = new UNet2DModel(UNetConfig.small(), BenchDevices.of(device), 1, false)) {
                m.initialize(1);
                UNetCheckpoint.save(m, folder);
            }
            ModelObjective.epsilon().write(folder);
        }
        pipeline = DiffusionPipeline.load(folder, BenchDevices.of(device),
                PipelineOptions.builder().maxBatch(batch).batchWindow(Duration.ofMillis(5)).build());
    }

    @Benchmark
    public int concurrentRequests() throws Exception {
        List<Future<SampleResult>> fs = new ArrayList<>();
        for (int i = 0; i < requests; i++) fs.add(pipeline.submit(SampleRequest.builder().n(1).sampler("ddim").steps(steps).seed(i).build()));
        int images = 0;
        for (Future<SampleResult> f : fs) images += f.get().images().count();
        return images;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        System.out.printf("%n[pipeline] %s maxBatch=%d: %s (%.1f images per batch)%n", device, batch, pipeline.stats(), pipeline.stats().meanBatchRows());
        pipeline.close();
    }
}
