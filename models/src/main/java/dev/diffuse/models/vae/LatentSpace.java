package dev.diffuse.models.vae;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.diffuse.models.data.PaddedImages;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Tensor;

/**
 * What a latent diffusion model needs to turn its samples into images, stored as {@code latent.json} beside the U-Net's
 * config.json (diffusers ignores the file), with the VAE itself copied into the folder's {@code vae/} subfolder so a
 * checkpoint is self-contained:
 * <pre>
 *   {"vae": "vae", "vae_sha256": "...", "scaling_factor": 2.74, "image_size": 32, "crop": 28, "vae_source": "/abs/path"}
 * </pre>
 * The U-Net samples scaled latents z * scaling_factor; {@link #decode} divides, decodes with the VAE and crops the
 * centred crop x crop window (the data's own size before padding). A folder without latent.json is a pixel model.
 *
 * @param vae           the VAE folder, relative to the model folder
 * @param vaeSha256     SHA-256 of the VAE's weights file (checked when loading)
 * @param scalingFactor the VAE's scaling factor the U-Net was trained with
 * @param imageSize     the VAE's sample_size
 * @param crop          the data's image size (a centred window of the decoded images)
 */
public record LatentSpace(String vae, String vaeSha256, double scalingFactor, int imageSize, int crop) {
    public static final String FILE = "latent.json", VAE_FOLDER = "vae";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The latent space of {@code modelFolder}, or null when it has no latent.json (a pixel-space model). */
    public static LatentSpace read(Path modelFolder) throws IOException {
        Path f = modelFolder.resolve(FILE);
        if (!Files.isRegularFile(f)) return null;
        JsonNode n;
        try {
            n = JSON.readTree(f.toFile());
        } catch (IOException e) {
            throw new IOException(f + " is not valid JSON: " + e.getMessage(), e);
        }
        for (String k : new String[]{"vae", "vae_sha256"})
            if (!n.path(k).isTextual()) throw new IOException(f + ": \"" + k + "\" must be a string");
        for (String k : new String[]{"scaling_factor", "image_size", "crop"})
            if (!n.path(k).isNumber()) throw new IOException(f + ": \"" + k + "\" must be a number");
        LatentSpace s = new LatentSpace(n.get("vae").asText(), n.get("vae_sha256").asText(), n.get("scaling_factor").asDouble(),
                n.get("image_size").asInt(), n.get("crop").asInt());
        if (!(s.scalingFactor > 0) || s.crop < 1 || s.crop > s.imageSize)
            throw new IOException(f + ": need scaling_factor > 0 and 1 <= crop <= image_size, got " + s);
        return s;
    }

    /** The latent space of the VAE in {@code vaeDir} (its absolute path as {@link #vae}) for data of size crop. */
    public static LatentSpace of(Path vaeDir, int crop) throws IOException {
        AutoencoderKLConfig c = VaeCheckpoint.readConfig(vaeDir);
        return new LatentSpace(VaeCheckpoint.modelFolder(vaeDir).toAbsolutePath().normalize().toString(), VaeCheckpoint.sha256(vaeDir),
                c.scalingFactor(), c.sampleSize(), crop);
    }

    /**
     * Copies the VAE in {@code vaeDir} into {@code modelFolder/vae} and writes latent.json there: what a training
     * checkpoint of a latent U-Net calls while it is assembled.
     */
    public static LatentSpace install(Path modelFolder, Path vaeDir, int crop) throws IOException {
        Path src = VaeCheckpoint.modelFolder(vaeDir), dst = modelFolder.resolve(VAE_FOLDER);
        AutoencoderKLConfig c = VaeCheckpoint.readConfig(src);
        Files.createDirectories(dst);
        if (!src.toAbsolutePath().normalize().equals(dst.toAbsolutePath().normalize())) {
            Files.copy(src.resolve(VaeCheckpoint.CONFIG), dst.resolve(VaeCheckpoint.CONFIG), StandardCopyOption.REPLACE_EXISTING);
            Files.copy(src.resolve(VaeCheckpoint.WEIGHTS), dst.resolve(VaeCheckpoint.WEIGHTS), StandardCopyOption.REPLACE_EXISTING);
        }
        LatentSpace s = new LatentSpace(VAE_FOLDER, VaeCheckpoint.sha256(dst), c.scalingFactor(), c.sampleSize(), crop);
        ObjectNode n = JSON.createObjectNode();
        n.put("vae", s.vae).put("vae_sha256", s.vaeSha256).put("scaling_factor", s.scalingFactor).put("image_size", s.imageSize)
                .put("crop", s.crop).put("vae_source", src.toAbsolutePath().normalize().toString());
        Path tmp = modelFolder.resolve(FILE + ".tmp");
        Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n");
        Files.move(tmp, modelFolder.resolve(FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return s;
    }

    /** Loads the VAE of {@code modelFolder} for decoding, after checking its weights are the ones the U-Net was trained with. */
    public AutoencoderKL loadVae(Path modelFolder, Device device, int maxBatch) throws IOException {
        Path dir = modelFolder.resolve(vae);
        String sha = VaeCheckpoint.sha256(dir);
        if (!sha.equals(vaeSha256))
            throw new IOException(modelFolder.resolve(FILE) + " names a VAE with weights sha256 " + vaeSha256 + " but " + dir
                    + " holds " + sha + "; put the VAE the model was trained with there");
        AutoencoderKL m = VaeCheckpoint.load(dir, device, maxBatch, false);
        if (m.config().scalingFactor() != scalingFactor || m.config().sampleSize() != imageSize) {
            m.close();
            throw new IOException(dir + ": scaling_factor " + m.config().scalingFactor() + " / sample_size " + m.config().sampleSize()
                    + " differ from " + modelFolder.resolve(FILE) + " (" + scalingFactor + " / " + imageSize + ")");
        }
        return m;
    }

    /** Images (n, C, crop, crop) on the host from scaled latents (n, L, h, w) on the VAE's device. */
    public float[] decode(AutoencoderKL vae, Tensor latents) {
        int n = latents.dim(0);
        AutoencoderKLConfig c = vae.config();
        try (Tensor images = Tensor.allocate(vae.device(), dev.diffuse.models.unet.Graph.withBatch(n, c.imageShape()))) {
            Latents.decodeScaled(vae, images, latents);
            return PaddedImages.crop(images.toArray(), n, c.outChannels(), imageSize, crop, crop);
        }
    }

    /** Shape of n decoded images: (n, C, crop, crop). */
    public int[] imageShape(AutoencoderKL vae, int n) { return new int[]{n, vae.config().outChannels(), crop, crop}; }
}
