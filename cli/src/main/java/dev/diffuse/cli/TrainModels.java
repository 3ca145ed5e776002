package dev.diffuse.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

import dev.diffuse.models.data.Dataset;
import dev.diffuse.models.train.MlpModel;
import dev.diffuse.models.train.TrainableModel;
import dev.diffuse.models.unet.UNet2DModel;
import dev.diffuse.models.unet.UNetCheckpoint;
import dev.diffuse.models.unet.UNetConfig;
import dev.diffuse.runtime.Device;

/**
 * The model {@code diffuse train} builds, decided before anything is allocated so that its memory can be checked with
 * the trainer's: a U-Net preset fitted to the data (small, tiny, cifar10: in/out channels and sample_size from the
 * images, a class table of the data's classes with --class-conditional), a diffusers config.json used as written, or
 * the MLP for vector data; or, on --resume, the architecture the checkpoint holds.
 */
final class TrainModels {
    private TrainModels() {}

    /** Exactly one of {@code unet} and {@code mlp} is set; {@code label} is what the user asked for. */
    record Plan(String label, UNetConfig unet, MlpModel.Config mlp) {
        long bytes(int maxBatch) { return unet != null ? UNet2DModel.bytesNeeded(unet, maxBatch, true) : MlpModel.workspaceBytes(mlp, maxBatch); }

        long parameters() { return unet != null ? UNet2DModel.parameterCount(unet) : MlpModel.parameterCount(mlp); }

        TrainableModel create(Device device, int maxBatch, long seed) {
            if (mlp != null) return new MlpModel(device, mlp, maxBatch, seed);
            UNet2DModel m = new UNet2DModel(unet, device, maxBatch, true);
            m.initialize(seed);
            return m;
        }

        /** Whether a model of this plan can take the weights of {@code other}. */
        boolean sameArchitecture(Plan other) {
            return unet != null ? unet.equals(other.unet) : other.mlp != null && Arrays.equals(mlp.sampleShape(), other.mlp.sampleShape())
                    && mlp.hidden() == other.mlp.hidden() && mlp.depth() == other.mlp.depth()
                    && mlp.timeEmbedDim() == other.mlp.timeEmbedDim() && mlp.numClasses() == other.mlp.numClasses();
        }

        String describe() {
            String kind = unet != null ? String.format(Locale.ROOT, "U-Net %s, %dx%dx%d", unet.blockOutChannels(), unet.inChannels(),
                    unet.sampleSize(), unet.sampleSize()) : String.format(Locale.ROOT, "MLP %dx%d", mlp.depth(), mlp.hidden());
            String classes = unet != null ? (unet.numClassEmbeds() != null ? ", " + unet.numClassEmbeds() + " classes" : "")
                    : (mlp.numClasses() > 0 ? ", " + mlp.numClasses() + " classes" : "");
            return String.format(Locale.ROOT, "%s (%s%s, %,d parameters)", label, kind, classes, parameters());
        }
    }

    /** The model for {@code config} (small | tiny | cifar10 | latent | mlp | path to a config.json) trained on {@code ds}. */
    static Plan of(String config, Dataset ds, boolean classConditional) throws IOException { return of(config, ds, classConditional, false); }

    /**
     * {@link #of(String, Dataset, boolean)}, with one class row more than the data has when {@code nullRow}: the "no
     * class" id that label dropout trains (classifier-free guidance).
     */
    static Plan of(String config, Dataset ds, boolean classConditional, boolean nullRow) throws IOException {
        int[] shape = ds.sampleShape();
        if (classConditional && ds.numClasses() == 0)
            throw new IllegalArgumentException("--class-conditional needs labelled data, but " + ds.description() + " has no labels "
                    + "(use fashion-mnist or png:DIR with one subfolder per class)");
        int classes = classConditional ? ds.numClasses() + (nullRow ? 1 : 0) : 0;
        if (config.equals("mlp")) return new Plan(config, null, MlpModel.Config.defaults(shape, classes));
        UNetConfig preset = switch (config) {
            case "small" -> UNetConfig.small(false);
            case "tiny" -> UNetConfig.tiny();
            case "cifar10" -> UNetConfig.ddpmCifar10();
            case "latent" -> UNetConfig.latent(4, 8);  // fitted to the latents' channels and size below
            default -> null;
        };
        if (preset == null) {
            Path p = Path.of(config);
            if (!Files.isRegularFile(p))
                throw new IllegalArgumentException("unknown model config '" + config + "': use small, tiny, cifar10, latent, mlp or a path to a config.json");
            UNetConfig cfg = UNetConfig.read(p);
            if (classConditional && (cfg.numClassEmbeds() == null || cfg.numClassEmbeds() < classes)) cfg = cfg.withNumClassEmbeds(classes);
            if (shape.length != 3 || shape[0] != cfg.inChannels() || (cfg.sampleSize() != null && cfg.sampleSize() != shape[1]))
                throw new IllegalArgumentException(p + " is a U-Net for " + cfg.inChannels() + "-channel images of size " + cfg.sampleSize()
                        + " but " + ds.description() + " has samples of shape " + Arrays.toString(shape)
                        + (shape.length != 3 ? "; use --config mlp for vector data" : "; use a preset (small, tiny), which fits the data"));
            return new Plan(config, cfg.sampleSize() == null ? cfg.withSampleSize(shape[1]) : cfg, null);
        }
        if (shape.length != 3)
            throw new IllegalArgumentException("--config " + config + " is a U-Net for images, but " + ds.description() + " has vectors of "
                    + Arrays.toString(shape) + "; use --config mlp");
        if (shape[1] != shape[2])
            throw new IllegalArgumentException("the U-Net needs square images, but " + ds.description() + " has " + shape[1] + "x" + shape[2]);
        return new Plan(config, preset.withChannels(shape[0], shape[0]).withSampleSize(shape[1]).withNumClassEmbeds(classConditional ? classes : null), null);
    }

    /** The architecture a checkpoint holds (its config.json: a UNet2DModel or the MLP). */
    static Plan ofCheckpoint(Path checkpoint) throws IOException {
        Path cfg = checkpoint.resolve(UNetCheckpoint.CONFIG);
        if (dev.diffuse.pipeline.ModelFolders.className(checkpoint).equals(MlpModel.CLASS_NAME)) return new Plan("mlp", null, MlpModel.readConfig(checkpoint));
        return new Plan(cfg.toString(), UNetConfig.read(cfg), null);
    }
}
