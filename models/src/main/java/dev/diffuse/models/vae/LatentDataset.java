package dev.diffuse.models.vae;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import dev.diffuse.models.data.Dataset;
import dev.diffuse.models.io.Safetensors;

/**
 * A data set of scaled latents z * scaling_factor (z the posterior mean of each image under a VAE), encoded once, so
 * that the DDPM/flow trainer trains a U-Net in latent space unchanged (it only sees a {@link Dataset}). The mean, not a
 * sample, keeps a batch a function of its indices alone (bit-exact resume); with the small KL weight the posterior's
 * std is small next to the spread of the means (measured in docs/fast-sampling.md). Labels are kept.
 *
 * <p>{@link #cached} keeps the encoded set in a safetensors file keyed by the VAE's weights hash, the data spec and the
 * scaling factor, so a resumed or repeated run does not encode 60000 images again.
 */
public final class LatentDataset implements Dataset {
    private final String description;
    private final float[] latents, labels;
    private final int n, numClasses;
    private final int[] shape;
    private final List<String> classNames;

    LatentDataset(String description, float[] latents, float[] labels, int[] shape, int numClasses, List<String> classNames) {
        this.description = description;
        this.latents = latents;
        this.labels = labels;
        this.shape = shape.clone();
        this.n = labels.length;
        this.numClasses = numClasses;
        this.classNames = List.copyOf(classNames);
        if ((long) n * sampleNumel() != latents.length)
            throw new IllegalArgumentException("latent data: " + latents.length + " values for " + n + " latents of " + java.util.Arrays.toString(shape));
    }

    /** Encodes every image of {@code images} (already at the VAE's sample size) with {@code vae} and scales the means. */
    public static LatentDataset encode(AutoencoderKL vae, Dataset images, String what) {
        int size = images.size();
        int[] ids = new int[size];
        for (int i = 0; i < size; i++) ids[i] = i;
        float[] z = Latents.encode(vae, images, ids);
        float s = (float) vae.config().scalingFactor();
        for (int i = 0; i < z.length; i++) z[i] *= s;
        float[] labels = new float[size];
        if (images.numClasses() > 0) {
            int chunk = 1024;
            float[] buf = new float[chunk * images.sampleNumel()], lab = new float[chunk];
            for (int first = 0; first < size; first += chunk) {
                int b = Math.min(chunk, size - first);
                images.fill(java.util.Arrays.copyOfRange(ids, first, first + b), buf, lab);
                System.arraycopy(lab, 0, labels, first, b);
            }
        }
        return new LatentDataset(what, z, labels, vae.config().latentShape(), images.numClasses(), images.classNames());
    }

    /**
     * The latents of {@code images} under {@code vae} (whose weights hash is {@code vaeSha}), from {@code cache} when it
     * holds exactly those (same hash, data spec, scaling factor and count), else encoded and written there.
     */
    public static LatentDataset cached(Path cache, AutoencoderKL vae, String vaeSha, Dataset images, String dataSpec) throws IOException {
        String scale = Double.toString(vae.config().scalingFactor());
        String what = "latents of " + images.description() + " (" + images.size() + " x " + shapeText(vae.config().latentShape())
                + ", VAE " + vaeSha.substring(0, 12) + ", scale " + scale + ")";
        if (Files.isRegularFile(cache)) {
            try (Safetensors.File f = Safetensors.open(cache)) {
                Map<String, String> m = f.metadata();
                if (vaeSha.equals(m.get("vae_sha256")) && dataSpec.equals(m.get("data_spec")) && scale.equals(m.get("scaling_factor"))
                        && f.has("latents") && f.shape("latents")[0] == images.size())
                    return new LatentDataset(what, f.readF32("latents"), f.readF32("labels"), vae.config().latentShape(),
                            images.numClasses(), images.classNames());
            }
        }
        LatentDataset d = encode(vae, images, what);
        int[] s = vae.config().latentShape();
        Safetensors.write(cache, Map.of("latents", new Safetensors.F32Tensor(new int[]{d.n, s[0], s[1], s[2]}, d.latents),
                        "labels", new Safetensors.F32Tensor(new int[]{d.n}, d.labels)),
                Map.of("vae_sha256", vaeSha, "data_spec", dataSpec, "scaling_factor", scale));
        return d;
    }

    private static String shapeText(int[] s) { return s[0] + "x" + s[1] + "x" + s[2]; }

    @Override public String description() { return description; }
    @Override public int size() { return n; }
    @Override public int[] sampleShape() { return shape.clone(); }
    @Override public int numClasses() { return numClasses; }
    @Override public List<String> classNames() { return classNames; }

    /** Mean and std over every value (after scaling: about 0 and 1). */
    public double[] stats() {
        double s = 0, s2 = 0;
        for (float v : latents) { s += v; s2 += (double) v * v; }
        double mean = s / latents.length;
        return new double[]{mean, Math.sqrt(Math.max(0, s2 / latents.length - mean * mean))};
    }

    @Override
    public void fill(int[] indices, float[] batch, float[] labelsOut) {
        checkFill(indices, batch, labelsOut);
        int per = sampleNumel();
        for (int i = 0; i < indices.length; i++) {
            System.arraycopy(latents, indices[i] * per, batch, i * per, per);
            if (labelsOut != null) labelsOut[i] = labels[indices[i]];
        }
    }
}
