package dev.diffuse.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.diffuse.models.train.MlpModel;
import dev.diffuse.models.train.TrainableModel;
import dev.diffuse.models.unet.UNet2DModel;
import dev.diffuse.models.unet.UNetConfig;
import dev.diffuse.pipeline.ModelFolders;
import dev.diffuse.runtime.Device;

/**
 * Model folders for the CLI: opening them is the library's ({@link ModelFolders}: a diffusers UNet2DModel folder, a
 * checkpoint, a run folder's latest checkpoint, an MLP checkpoint); creating models for training and writing their
 * config.json is the CLI's.
 */
final class Models {
    private Models() {}

    /** A run folder resolves to its latest checkpoint; anything else is returned as is ({@link ModelFolders#resolve}). */
    static Path resolve(Path dir) throws IOException { return ModelFolders.resolve(dir); }

    static String className(Path dir) throws IOException { return ModelFolders.className(dir); }

    /** Loads the model in {@code dir} for inference with room for {@code maxBatch} rows. */
    static TrainableModel load(Path dir, Device device, int maxBatch) throws IOException { return ModelFolders.load(dir, device, maxBatch, false); }

    /** {@link ModelFolders#load}: {@code differentiable} keeps the activations a backward needs. */
    static TrainableModel load(Path dir, Device device, int maxBatch, boolean differentiable) throws IOException {
        return ModelFolders.load(dir, device, maxBatch, differentiable);
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
            case "latent" -> UNetConfig.latent(sampleShape[0], sampleShape.length == 3 ? sampleShape[1] : 1);
            default -> {
                Path p = Path.of(config);
                if (!Files.isRegularFile(p))
                    throw new IllegalArgumentException("unknown model config '" + config + "': use small, tiny, cifar10, latent, mlp or a path to a config.json");
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
    static long parameterCount(TrainableModel m) { return ModelFolders.parameterCount(m); }
}
