package dev.diffuse.spark;

import java.nio.file.Files;
import java.nio.file.Path;

import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.models.unet.UNet2DModel;
import dev.diffuse.models.unet.UNetCheckpoint;
import dev.diffuse.models.unet.UNetConfig;
import dev.diffuse.runtime.JavaDevice;

/**
 * Model folders for Spark tests: the tiny test U-Net (channels 8/16, attention) for 1-channel images, randomly
 * initialised (noise-like images, every bit reproducible), as diffusers folders with an objective.json.
 */
final class TinyImageModels {
    private TinyImageModels() {}

    /** 1 x size x size images; {@code classes} class rows (0 = unconditional), the last one "no class" when classes > 0. */
    static Path write(Path dir, int size, int classes) throws Exception {
        Files.createDirectories(dir);
        UNetConfig t = UNetConfig.tiny();
        UNetConfig cfg = new UNetConfig(size, 1, 1, t.centerInputSample(), t.timeEmbeddingDim(), t.freqShift(), t.flipSinToCos(),
                t.downBlockTypes(), t.midBlockType(), t.upBlockTypes(), t.blockOutChannels(), t.layersPerBlock(), t.midBlockScaleFactor(),
                t.downsamplePadding(), t.attentionHeadDim(), t.normNumGroups(), t.normEps(), t.attnNormNumGroups(),
                t.addAttention(), classes > 0 ? classes : null, t.dropout());
        try (UNet2DModel m = new UNet2DModel(cfg, JavaDevice.get(), 1, false)) {
            m.initialize(31);
            UNetCheckpoint.save(m, dir);
        }
        ModelObjective.epsilon().write(dir);
        if (classes > 0) {
            String json = Files.readString(dir.resolve(ModelObjective.FILE)).trim();
            Files.writeString(dir.resolve(ModelObjective.FILE), json.substring(0, json.length() - 1) + ", \"null_class\": " + (classes - 1) + "}\n");
        }
        return dir;
    }
}
