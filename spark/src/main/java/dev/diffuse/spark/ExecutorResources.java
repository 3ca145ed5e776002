package dev.diffuse.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

import dev.diffuse.models.data.Dataset;
import dev.diffuse.models.data.Datasets;
import dev.diffuse.pipeline.DiffusionPipeline;
import dev.diffuse.pipeline.PipelineOptions;
import dev.diffuse.pipeline.eval.ImageLikelihood;
import dev.diffuse.runtime.ClDeviceInfo;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Devices;

/**
 * What an executor JVM loads once and every task on it shares: pipelines (one per model hash, device and batch size),
 * likelihood models and data sets. Tasks that run at the same time on one executor share one pipeline, whose queue
 * then batches their images together (their bits do not change: a row's noise is keyed by its image index). Loading
 * happens under the map's lock for that key, so concurrent first tasks load once; each load checks the model's hash.
 * Everything is closed when the JVM exits.
 */
public final class ExecutorResources {
    private static final Map<String, DiffusionPipeline> PIPELINES = new ConcurrentHashMap<>();
    private static final Map<String, ImageLikelihood> LIKELIHOODS = new ConcurrentHashMap<>();
    private static final Map<String, Dataset> DATASETS = new ConcurrentHashMap<>();
    private static final AtomicInteger MODEL_LOADS = new AtomicInteger();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorResources::closeAll, "diffuse-executor-close"));
    }

    private ExecutorResources() {}

    /** The device a task here runs on: the GPU Spark assigned to this executor, if any and spec is auto, else spec. */
    public static Device device(String spec) {
        TaskContext tc = TaskContext.get();
        if ((spec == null || spec.equals("auto")) && tc != null) {
            ResourceInformation gpu = tc.resources().get("gpu").getOrElse(() -> null);
            if (gpu != null && gpu.addresses().length > 0) return Devices.select(gpuSpec(gpu.addresses()[0], Devices.openCl()));
        }
        return Devices.select(spec);
    }

    /**
     * The device spec of GPU {@code address} (Spark's resource address, the GPU's index as the discovery script lists
     * it, e.g. "1") among the OpenCL GPUs in platform order.
     */
    static String gpuSpec(String address, List<ClDeviceInfo> devices) {
        int k;
        try {
            k = Integer.parseInt(address.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Spark gave this executor GPU '" + address + "', not an index; set --device cl:P:I explicitly");
        }
        List<ClDeviceInfo> gpus = devices.stream().filter(ClDeviceInfo::isGpu).toList();
        if (k < 0 || k >= gpus.size())
            throw new IllegalStateException("Spark gave this executor GPU " + k + " but OpenCL lists " + gpus.size() + " GPUs here; check the GPU discovery script");
        return gpus.get(k).id();
    }

    /** The pipeline of {@code model} on {@code device} with batches of {@code maxBatch}, loaded on first use in this JVM. */
    public static DiffusionPipeline pipeline(ModelRef model, Device device, int maxBatch) {
        return once(PIPELINES, model, device, maxBatch, dir -> DiffusionPipeline.load(dir, device, PipelineOptions.builder().maxBatch(maxBatch).build()));
    }

    /** The likelihood model of {@code model} on {@code device}, loaded on first use in this JVM. */
    public static ImageLikelihood likelihood(ModelRef model, Device device, int maxBatch) {
        return once(LIKELIHOODS, model, device, maxBatch, dir -> ImageLikelihood.load(dir, device, maxBatch));
    }

    private interface Loader<T> { T load(Path dir) throws IOException; }

    /** The value for (model hash, device, batch) in {@code map}, loaded from the local copy after checking its hash. */
    private static <T> T once(Map<String, T> map, ModelRef model, Device device, int maxBatch, Loader<T> loader) {
        return map.computeIfAbsent(model.sha256() + "|" + device.id() + "|" + maxBatch, k -> {
            Path dir = model.localFolder();
            model.verify(dir);
            MODEL_LOADS.incrementAndGet();
            try {
                return loader.load(dir);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot load the model at " + dir + ": " + e.getMessage(), e);
            }
        });
    }

    /** A data set by spec ({@link Datasets#open}), read once per JVM; its files must be at {@code dataDir} on every node. */
    public static Dataset dataset(String spec, String dataDir) {
        return DATASETS.computeIfAbsent(spec + "|" + dataDir, k -> {
            try {
                return Datasets.open(spec, dataDir == null ? null : Path.of(dataDir));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read data set " + spec + (dataDir != null ? " in " + dataDir : "") + " on this executor: "
                        + e.getMessage() + "; its files must be on every node at the same path", e);
            }
        });
    }

    /** Models loaded by this JVM since it started (each pipeline or likelihood model counts once). */
    public static int modelLoads() { return MODEL_LOADS.get(); }

    private static void closeAll() {
        PIPELINES.values().forEach(DiffusionPipeline::close);
        LIKELIHOODS.values().forEach(ImageLikelihood::close);
    }
}
