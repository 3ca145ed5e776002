package dev.diffuse.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.models.unet.UNet2DModel;
import dev.diffuse.models.unet.UNetCheckpoint;
import dev.diffuse.models.unet.UNetConfig;
import dev.diffuse.runtime.JavaDevice;

/**
 * Model folders for pipeline tests: the tiny test U-Net (8x8, 2 channels, channels 8/16, attention), randomly
 * initialised (its images are noise-like, but every bit is reproducible), saved as a diffusers folder with an
 * objective.json.
 */
final class TinyModels {
    private TinyModels() {}

    /** Class-conditional with 3 class rows, row 2 meaning "no class" (so guidance can run). */
    static Path conditional(Path dir) throws IOException {
        return write(dir, UNetConfig.tiny(), ModelObjective.epsilon(), 2);
    }

    /** Unconditional, with the given objective. */
    static Path unconditional(Path dir, ModelObjective objective) throws IOException {
        return write(dir, UNetConfig.tiny().withNumClassEmbeds(null), objective, -1);
    }

    static Path write(Path dir, UNetConfig cfg, ModelObjective objective, int nullClass) throws IOException {
        Files.createDirectories(dir);
        try (UNet2DModel m = new UNet2DModel(cfg, JavaDevice.get(), 1, false)) {
            m.initialize(17);
            UNetCheckpoint.save(m, dir);
        }
        objective.write(dir);
        if (nullClass >= 0) {
            String json = Files.readString(dir.resolve(ModelObjective.FILE)).trim();
            Files.writeString(dir.resolve(ModelObjective.FILE), json.substring(0, json.length() - 1) + ", \"null_class\": " + nullClass + "}\n");
        }
        return dir;
    }
}
