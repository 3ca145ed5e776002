package dev.diffuse.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.diffuse.models.train.Checkpoints;
import dev.diffuse.models.train.MlpModel;
import dev.diffuse.models.train.TrainableModel;
import dev.diffuse.models.train.Trainer;
import dev.diffuse.models.unet.UNet2DModel;
import dev.diffuse.models.unet.UNetCheckpoint;
import dev.diffuse.models.unet.UNetConfig;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Tensor;

/**
 * Opening model folders: a diffusers UNet2DModel folder (flat, or a pipeline folder with {@code unet/}), one of
 * Diffuse's checkpoint folders (the same layout, plus {@code objective.json}), a training run folder (its latest
 * {@code checkpoint-N}), or an MLP checkpoint (vector data).
 */
public final class ModelFolders {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelFolders() {}

    /**
     * The folder that holds the model: a run folder resolves to its latest checkpoint, anything with a config.json
     * (or unet/config.json) is returned as is.
     * <pre>{@code
     * Path ckpt = ModelFolders.resolve(Path.of("runs/fmnist"));   // runs/fmnist/checkpoint-20000
     * }</pre>
     *
     * @throws IllegalArgumentException when the folder is missing or holds no model
     */
    public static Path resolve(Path dir) throws IOException {
        if (!Files.isDirectory(dir))
            throw new IllegalArgumentException("model folder " + dir + " does not exist (expected a diffusers model folder, a checkpoint or a run folder)");
        if (Files.exists(dir.resolve("config.json")) || Files.exists(dir.resolve("unet/config.json"))) return dir;
        Path latest = Trainer.latestCheckpoint(dir);
        if (latest != null) return latest;
        throw new IllegalArgumentException(dir + " has no config.json, no unet/config.json and no checkpoint-N folders");
    }

    /**
     * The {@code _class_name} of the folder's config.json ("UNet2DModel" when absent, as diffusers writes it).
     * <pre>{@code
     * String cls = ModelFolders.className(Path.of("pretrained/fashion-mnist-small"));   // "UNet2DModel"
     * }</pre>
     *
     * @throws IOException naming the file when config.json is missing or not JSON
     */
    public static String className(Path folder) throws IOException {
        Path cfg = Files.exists(folder.resolve("config.json")) ? folder.resolve("config.json") : folder.resolve("unet/config.json");
        JsonNode n;
        try {
            n = JSON.readTree(cfg.toFile());
        } catch (JsonProcessingException e) {
            throw new IOException(cfg + " is not valid JSON: " + e.getOriginalMessage());
        }
        if (n == null || !n.isObject()) throw new IOException(cfg + " must hold a JSON object, got " + (n == null ? "nothing" : n.getNodeType()));
        return n.path("_class_name").asText("UNet2DModel");
    }

    /**
     * Loads the model in {@code dir} (resolved as {@link #resolve}) for inference with room for {@code maxBatch}
     * rows; {@code differentiable} keeps the activations a backward needs (vector-Jacobian products).
     * <pre>{@code
     * try (TrainableModel net = ModelFolders.load(Path.of("pretrained/fashion-mnist-small"), device, 64, false)) { ... }
     * }</pre>
     */
    public static TrainableModel load(Path dir, Device device, int maxBatch, boolean differentiable) throws IOException {
        Path folder = resolve(dir);
        String cls = className(folder);
        return switch (cls) {
            case MlpModel.CLASS_NAME -> {
                MlpModel m = new MlpModel(device, MlpModel.readConfig(folder), maxBatch, 0);
                try {
                    Checkpoints.loadWeights(m, folder);
                } catch (IOException | RuntimeException e) {
                    m.close();
                    throw e;
                }
                yield m;
            }
            case "UNet2DModel" -> UNetCheckpoint.load(folder, device, maxBatch, differentiable);
            default -> throw new IllegalArgumentException(folder + "/config.json names model class '" + cls
                    + "'; this version loads UNet2DModel and " + MlpModel.CLASS_NAME);
        };
    }

    /**
     * Device bytes the model in {@code folder} takes for inference at {@code maxBatch} rows, computed without
     * allocating: exact for a U-Net ({@link UNet2DModel#bytesNeeded}); for an MLP its workspace's budget.
     * <pre>{@code
     * long bytes = ModelFolders.bytesNeeded(ModelFolders.resolve(dir), 64);
     * }</pre>
     */
    public static long bytesNeeded(Path folder, int maxBatch) throws IOException {
        return switch (className(folder)) {
            case "UNet2DModel" -> UNet2DModel.bytesNeeded(UNetCheckpoint.readConfig(folder), maxBatch, false);
            case MlpModel.CLASS_NAME -> MlpModel.workspaceBytes(MlpModel.readConfig(folder), maxBatch);
            default -> throw new IllegalArgumentException(folder + "/config.json names an unknown model class");
        };
    }

    /**
     * The sample shape of the model in {@code folder} without loading it, e.g. {1, 28, 28} or {2}.
     * <pre>{@code
     * int[] shape = ModelFolders.sampleShape(folder);
     * }</pre>
     */
    public static int[] sampleShape(Path folder) throws IOException {
        if (className(folder).equals(MlpModel.CLASS_NAME)) return MlpModel.readConfig(folder).sampleShape();
        UNetConfig c = UNetCheckpoint.readConfig(folder);
        if (c.sampleSize() == null)
            throw new IllegalArgumentException(folder + "/config.json has no sample_size; set it to the image size the model was trained on");
        return new int[]{c.inChannels(), c.sampleSize(), c.sampleSize()};
    }

    /**
     * Parameters proper of a loaded model (the slab also holds alignment padding between tensors).
     * <pre>{@code
     * long p = ModelFolders.parameterCount(net);   // 1,234,567
     * }</pre>
     */
    public static long parameterCount(TrainableModel m) {
        return m.namedParameters().values().stream().mapToLong(Tensor::numel).sum();
    }
}
