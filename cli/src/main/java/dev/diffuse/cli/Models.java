package dev.diffuse.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

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

/**
 * Opening model folders for the CLI: a diffusers UNet2DModel folder (flat or with unet/), one of our checkpoint
 * folders (the same layout), a training run folder (its latest checkpoint), or an MLP checkpoint.
 */
final class Models {
    private Models() {}

    /** A run folder resolves to its latest checkpoint; anything else is returned as is. */
    static Path resolve(Path dir) throws IOException {
        if (!Files.isDirectory(dir))
            throw new IllegalArgumentException("model folder " + dir + " does not exist (expected a diffusers model folder, a checkpoint or a run folder)");
        if (Files.exists(dir.resolve("config.json")) || Files.exists(dir.resolve("unet/config.json"))) return dir;
        Path latest = Trainer.latestCheckpoint(dir);
        if (latest != null) return latest;
        throw new IllegalArgumentException(dir + " has no config.json, no unet/config.json and no checkpoint-N folders");
    }

    static String className(Path dir) throws IOException {
        Path cfg = Files.exists(dir.resolve("config.json")) ? dir.resolve("config.json") : dir.resolve("unet/config.json");
        JsonNode n = new ObjectMapper().readTree(cfg.toFile());
        return n.path("_class_name").asText("UNet2DModel");
    }

    /** Working memory a sampling model may take for its activations: the batch is chosen to fit. */
    static final long SAMPLING_ACTIVATION_BYTES = 160L << 20;

    /**
     * The largest batch up to {@code want} whose inference model (parameters and activations) fits in
     * {@link #SAMPLING_ACTIVATION_BYTES}, halving from {@code want} (at least 1). Denoisers evaluate larger sample
     * counts in chunks of this size, and every image's result is the same whatever chunk it is in, so this changes
     * memory, not samples (the small U-Net at 64 images would hold 410 MB of activations, 103 MB at 16).
     */
    static int inferenceBatch(Path dir, int want) throws IOException {
        Path folder = resolve(dir);
        if (!className(folder).equals("UNet2DModel")) return want;
        UNetConfig cfg = UNetCheckpoint.readConfig(folder);
        int b = Math.max(1, want);
        while (b > 1 && UNet2DModel.bytesNeeded(cfg, b, false) > SAMPLING_ACTIVATION_BYTES) b = (b + 1) / 2;
        return b;
    }

    /** Loads the model in {@code dir} for inference with room for {@code maxBatch} rows. */
    static TrainableModel load(Path dir, Device device, int maxBatch) throws IOException { return load(dir, device, maxBatch, false); }

    /**
     * Loads the model in {@code dir} with room for {@code maxBatch} rows; {@code differentiable} keeps the activations
     * a backward needs (vector-Jacobian products, e.g. for the likelihood's divergence).
     */
    static TrainableModel load(Path dir, Device device, int maxBatch, boolean differentiable) throws IOException {
        Path folder = resolve(dir);
        String cls = className(folder);
        return switch (cls) {
            case MlpModel.CLASS_NAME -> {
                MlpModel m = new MlpModel(device, MlpModel.readConfig(folder), maxBatch, 0);
                Checkpoints.loadWeights(m, folder);
                yield m;
            }
            case "UNet2DModel" -> UNetCheckpoint.load(folder, device, maxBatch, differentiable);
            default -> throw new IllegalArgumentException(folder + "/config.json names model class '" + cls
                    + "'; this version loads UNet2DModel and " + MlpModel.CLASS_NAME);
        };
    }

    /** A new model for training: "small", "tiny", "cifar10", "mlp" or a path to a diffusers config.json. */
    static TrainableModel create(String config, int[] sampleShape, int numClasses, boolean classConditional, Device device, int maxBatch, long seed)
            throws IOException {
        if (config.equals("mlp")) {
            return new MlpModel(device, MlpModel.Config.defaults(sampleShape, classConditional ? numClasses : 0), maxBatch, seed);
        }
        UNetConfig cfg = switch (config) {
            case "small" -> UNetConfig.small(classConditional);
            case "tiny" -> UNetConfig.tiny();
            case "cifar10" -> UNetConfig.ddpmCifar10();
            default -> {
                Path p = Path.of(config);
                if (!Files.isRegularFile(p))
                    throw new IllegalArgumentException("unknown model config '" + config + "': use small, tiny, cifar10, mlp or a path to a config.json");
                yield UNetConfig.read(p);
            }
        };
        if (classConditional && cfg.numClassEmbeds() == null) cfg = cfg.withNumClassEmbeds(numClasses);
        if (sampleShape.length != 3 || sampleShape[0] != cfg.inChannels())
            throw new IllegalArgumentException("the U-Net config takes " + cfg.inChannels() + "-channel images but the data has samples of shape "
                    + java.util.Arrays.toString(sampleShape) + "; use --config mlp for vector data");
        UNet2DModel m = new UNet2DModel(cfg, device, maxBatch, true);
        m.initialize(seed);
        return m;
    }

    /** The writer of config.json for a model's checkpoints. */
    static void writeConfig(TrainableModel m, Path folder) throws IOException {
        switch (m) {
            case MlpModel mlp -> mlp.writeConfig(folder);
            case UNet2DModel u -> Files.writeString(folder.resolve("config.json"), u.config().toJson());
            default -> throw new IllegalArgumentException("no config writer for " + m.getClass().getSimpleName());
        }
    }

    /** Parameters proper (the slab also holds alignment padding between tensors). */
    static long parameterCount(TrainableModel m) {
        return m.namedParameters().values().stream().mapToLong(dev.diffuse.runtime.Tensor::numel).sum();
    }
}
