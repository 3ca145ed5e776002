package dev.diffuse.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import dev.diffuse.models.data.Dataset;
import dev.diffuse.models.data.PaddedImages;
import dev.diffuse.models.vae.AutoencoderKL;
import dev.diffuse.models.vae.LatentDataset;
import dev.diffuse.models.vae.LatentSpace;
import dev.diffuse.models.vae.VaeCheckpoint;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Tensor;

/**
 * {@code diffuse train --vae DIR}: the training set becomes the VAE's scaled latents (encoded once, cached in the run
 * folder), every checkpoint gets the VAE and latent.json ({@link LatentSpace#install}), and sample grids are decoded.
 * A resumed run uses the VAE its checkpoint holds.
 */
final class LatentTraining {
    private final Path vaeDir;
    private final LatentDataset latents;
    private final int crop;

    private LatentTraining(Path vaeDir, LatentDataset latents, int crop) {
        this.vaeDir = vaeDir;
        this.latents = latents;
        this.crop = crop;
    }

    /** The latent set-up for a run, or null for pixel-space training (no --vae and a pixel checkpoint). */
    static LatentTraining open(Path vaeOption, Path resumeFrom, Path out, Dataset pixels, String dataSpec, Device device) throws IOException {
        Path vaeDir = vaeOption;
        if (resumeFrom != null) {
            LatentSpace stored = LatentSpace.read(resumeFrom);
            if (stored == null && vaeOption != null)
                throw new IllegalArgumentException("--vae: " + resumeFrom + " is a pixel-space checkpoint; drop --vae to resume it");
            if (stored != null) {
                Path inCheckpoint = resumeFrom.resolve(stored.vae());
                if (vaeOption != null && !VaeCheckpoint.sha256(vaeOption).equals(stored.vaeSha256()))
                    throw new IllegalArgumentException("--vae " + vaeOption + " is not the VAE " + resumeFrom + " was trained with (sha256 "
                            + stored.vaeSha256().substring(0, 12) + "...); drop --vae to use the checkpoint's own copy");
                vaeDir = inCheckpoint;
            }
        }
        if (vaeDir == null) return null;
        if (pixels.sampleShape().length != 3)
            throw new IllegalArgumentException("--vae needs image data; " + pixels.description() + " holds vectors");
        String sha = VaeCheckpoint.sha256(vaeDir);
        Files.createDirectories(out);
        try (AutoencoderKL vae = VaeCheckpoint.load(vaeDir, device, 64, false)) {
            Dataset images = PaddedImages.to(pixels, vae.config().sampleSize());
            long t0 = System.nanoTime();
            LatentDataset d = LatentDataset.cached(out.resolve("latents-" + sha.substring(0, 12) + ".safetensors"), vae, sha, images, dataSpec);
            double[] st = d.stats();
            System.out.printf(Locale.ROOT, "latents: %s in %.1f s; mean %.3f, std %.3f after scaling%n", d.description(),
                    (System.nanoTime() - t0) / 1e9, st[0], st[1]);
            return new LatentTraining(vaeDir, d, pixels.sampleShape()[1]);
        }
    }

    Dataset data() { return latents; }

    /** Copies the VAE into a checkpoint folder being assembled and writes its latent.json. */
    void install(Path folder) throws IOException { LatentSpace.install(folder, vaeDir, crop); }

    /** Images (n, C, crop, crop) from sampled scaled latents. */
    float[] decode(Tensor sampled, Device device) throws IOException {
        LatentSpace space = LatentSpace.of(vaeDir, crop);
        try (AutoencoderKL vae = space.loadVae(vaeDir, device, Math.min(64, sampled.dim(0)))) {
            return space.decode(vae, sampled);
        }
    }

    int crop() { return crop; }
}
