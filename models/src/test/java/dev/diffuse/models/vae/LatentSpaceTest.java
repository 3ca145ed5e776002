package dev.diffuse.models.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.diffuse.models.data.Dataset;
import dev.diffuse.models.data.PaddedImages;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;

/** Encoded data sets (cache hits and misses), latent.json, the VAE copy in a checkpoint and its hash check, decoding. */
class LatentSpaceTest {
    @TempDir Path tmp;

    @Test
    void encodesCachesInstallsAndDecodes() throws Exception {
        Device j = TestDevices.java();
        AutoencoderKLConfig c = AutoencoderKLConfig.tiny().withScalingFactor(2.0);
        Path vaeDir = tmp.resolve("vae");
        Stripes data = new Stripes(20);
        try (AutoencoderKL m = new AutoencoderKL(c, j, 4, false)) {
            m.initialize(3);
            VaeCheckpoint.save(m, vaeDir);
            String sha = VaeCheckpoint.sha256(vaeDir);
            Path cache = tmp.resolve("latents.safetensors");
            LatentDataset a = LatentDataset.cached(cache, m, sha, data, "stripes");
            assertArrayEquals(new int[]{3, 4, 4}, a.sampleShape());
            float[] z = Latents.encode(m, data, new int[]{0, 7});
            float[] got = new float[2 * 48];
            a.fill(new int[]{0, 7}, got, null);
            for (int i = 0; i < got.length; i++) assertEquals(2.0f * z[i], got[i], "scaled posterior mean");
            long written = Files.getLastModifiedTime(cache).toMillis();
            LatentDataset b = LatentDataset.cached(cache, m, sha, data, "stripes");
            float[] again = new float[2 * 48];
            b.fill(new int[]{0, 7}, again, null);
            assertArrayEquals(got, again, "read back from the cache");
            assertEquals(written, Files.getLastModifiedTime(cache).toMillis(), "a cache hit writes nothing");
            LatentDataset.cached(cache, m, sha, data, "other-spec");   // another data spec: encoded again (a miss)

            Path model = tmp.resolve("unet");
            Files.createDirectories(model);
            assertNull(LatentSpace.read(model), "no latent.json: a pixel model");
            LatentSpace s = LatentSpace.install(model, vaeDir, 6);
            assertEquals(s, LatentSpace.read(model));
            assertEquals(2.0, s.scalingFactor());
            try (AutoencoderKL vae = s.loadVae(model, j, 4); Tensor lat = Tensor.of(j, got, 2, 3, 4, 4)) {
                float[] images = s.decode(vae, lat);
                assertEquals(2 * 2 * 6 * 6, images.length, "2 images of 2x6x6: decoded and cropped to the data's size");
            }
            // another VAE's weights in the folder: refused, naming both hashes
            try (AutoencoderKL other = new AutoencoderKL(c, j, 1, false)) {
                other.initialize(4);
                VaeCheckpoint.save(other, model.resolve("vae"));
            }
            String e = assertThrows(java.io.IOException.class, () -> s.loadVae(model, j, 1)).getMessage();
            assertTrue(e.contains(sha), e);
        }
    }

    @Test
    void paddingAndCropAreInverse() {
        Dataset inner = new Stripes(3);
        PaddedImages p = new PaddedImages(inner, 12, -1f);
        float[] raw = new float[3 * 128], padded = new float[3 * 2 * 144];
        int[] ids = {0, 1, 2};
        inner.fill(ids, raw, null);
        p.fill(ids, padded, null);
        assertEquals(-1f, padded[0]);
        assertArrayEquals(raw, PaddedImages.crop(padded, 3, 2, 12, 8, 8));
    }
}
