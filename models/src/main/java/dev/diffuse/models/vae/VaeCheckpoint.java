package dev.diffuse.models.vae;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;

import dev.diffuse.models.io.FileHash;
import dev.diffuse.models.io.Safetensors;
import dev.diffuse.models.train.Checkpoints;
import dev.diffuse.models.unet.UNetCheckpoint;
import dev.diffuse.runtime.Device;

/**
 * diffusers AutoencoderKL folders: {@code config.json} + {@code diffusion_pytorch_model.safetensors} (or sharded), flat
 * or in the {@code vae/} subfolder of a pipeline. Loading is as strict as the U-Net's ({@link UNetCheckpoint}): every
 * missing, unexpected or mis-shaped tensor is named in one error, legacy attention names
 * ({@code query/key/value/proj_attn}) are accepted, unsupported config values are named in one error.
 */
public final class VaeCheckpoint {
    public static final String CONFIG = "config.json", WEIGHTS = "diffusion_pytorch_model.safetensors";

    private VaeCheckpoint() {}

    /** The folder holding config.json: {@code dir/vae} when it exists (pipeline layout), else {@code dir}. */
    public static Path modelFolder(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve("vae").resolve(CONFIG))) return dir.resolve("vae");
        if (Files.isRegularFile(dir.resolve(CONFIG))) return dir;
        throw new java.io.FileNotFoundException(dir + ": no " + CONFIG + " (looked in " + dir + " and " + dir.resolve("vae")
                + "); give a diffusers AutoencoderKL folder or a pipeline folder with a vae/ subfolder");
    }

    public static AutoencoderKLConfig readConfig(Path dir) throws IOException {
        return AutoencoderKLConfig.read(modelFolder(dir).resolve(CONFIG));
    }

    /** Reads the config and weights of {@code dir} into a new model on {@code device}. */
    public static AutoencoderKL load(Path dir, Device device, int maxBatch, boolean training) throws IOException {
        Path folder = modelFolder(dir);
        AutoencoderKL m = new AutoencoderKL(readConfig(folder), device, maxBatch, training);
        try {
            UNetCheckpoint.loadWeights(m.namedParameters(), folder);
        } catch (IOException | RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    /** Writes config.json and the model's current weights into {@code dir} (diffusers names). */
    public static void save(AutoencoderKL model, Path dir) throws IOException {
        save(model.config(), Checkpoints.namedSlices(model, model.parameters().toArray(), ""), dir);
    }

    /** Writes {@code cfg} and {@code weights} (name -> tensor) as a diffusers folder, each file by temp file + rename. */
    public static void save(AutoencoderKLConfig cfg, Map<String, Safetensors.F32Tensor> weights, Path dir) throws IOException {
        Files.createDirectories(dir);
        Safetensors.write(dir.resolve(WEIGHTS), weights, Map.of("format", "pt"));
        Path tmp = dir.resolve(CONFIG + ".tmp");
        Files.writeString(tmp, cfg.toJson());
        Files.move(tmp, dir.resolve(CONFIG), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** SHA-256 of the folder's weights file (hex): what a latent model records to name the VAE it needs. */
    public static String sha256(Path dir) throws IOException {
        Path f = modelFolder(dir).resolve(WEIGHTS);
        if (!Files.isRegularFile(f)) throw new java.io.FileNotFoundException(f + " does not exist (a sharded VAE cannot be hashed; merge it first)");
        return FileHash.sha256(f);
    }
}
