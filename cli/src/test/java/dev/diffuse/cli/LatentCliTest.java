package dev.diffuse.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.diffuse.models.vae.AutoencoderKLConfig;

/** train-vae, train --vae and sampling a latent model, end to end on 24 small PNGs with a tiny VAE. */
class LatentCliTest {
    @TempDir
    Path dir;

    /** 24 grayscale 28x28 PNGs in dir/pngs: a bright rectangle at one of a few places. */
    static Path pngs(Path dir) throws Exception {
        Path d = dir.resolve("pngs");
        Files.createDirectories(d);
        for (int i = 0; i < 24; i++) {
            BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            int x0 = 3 + 5 * (i % 4), y0 = 4 + 6 * (i % 3);
            for (int y = y0; y < y0 + 8; y++)
                for (int x = x0; x < x0 + 6; x++) img.getRaster().setSample(x, y, 0, 200 + i);
            ImageIO.write(img, "png", d.resolve(String.format("%02d.png", i)).toFile());
        }
        return d;
    }

    @Test
    void trainVaeThenALatentUNetAndSampleDecodedImages() throws Exception {
        Path data = pngs(dir), vae = dir.resolve("vae"), ldm = dir.resolve("ldm"), cfg = dir.resolve("vae.json");
        Files.writeString(cfg, AutoencoderKLConfig.of(1, java.util.List.of(8, 8, 8), 1, 4, 4, 32).toJson());
        CliTest.Run v = CliTest.run("train-vae", "--data", "png:" + data, "--config", cfg.toString(), "--steps", "4", "--batch", "8",
                "--device", "java", "--out", vae.toString(), "--checkpoint-every", "2", "--log-every", "1");
        assertEquals(0, v.code(), v.err());
        assertTrue(v.out().contains("reconstruction MSE per pixel") && Files.exists(vae.resolve("reconstructions-4.png")), v.out());
        double sf = AutoencoderKLConfig.read(vae.resolve("checkpoint-4/config.json")).scalingFactor();
        assertTrue(sf > 0 && sf != 1.0, "the scaling factor is measured: " + sf);
        CliTest.Run vr = CliTest.run("train-vae", "--steps", "6", "--device", "java", "--out", vae.toString(), "--resume");
        assertEquals(0, vr.code(), vr.err());
        assertTrue(vr.out().contains("at step 4") && vr.out().contains("png:"), "resume keeps the run's data: " + vr.out());

        // the tiny test U-Net (channels 8/16) for 4x8x8 latents: sample grids (64 images, 50 DDIM steps) stay cheap
        var json = (com.fasterxml.jackson.databind.node.ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                dev.diffuse.models.unet.UNetConfig.tiny().toJson());
        json.put("in_channels", 4).put("out_channels", 4).put("sample_size", 8).putNull("num_class_embeds");
        Path unet = dir.resolve("unet.json");
        Files.writeString(unet, json.toString());
        CliTest.Run t = CliTest.run("train", "--data", "png:" + data, "--vae", vae.resolve("checkpoint-6").toString(), "--config", unet.toString(),
                "--steps", "2", "--batch", "8",
                "--device", "java", "--out", ldm.toString(), "--sample-every", "2", "--checkpoint-every", "2", "--log-every", "1");
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().contains("latents:") && t.out().contains("4x8x8"), t.out());
        Path ck = ldm.resolve("checkpoint-2");
        assertTrue(Files.exists(ck.resolve("latent.json")) && Files.exists(ck.resolve("vae/diffusion_pytorch_model.safetensors")), "self-contained checkpoint");
        BufferedImage grid = ImageIO.read(ldm.resolve("samples/final.png").toFile());
        assertEquals(4 * (28 * 2 + 2) + 2, grid.getWidth(), "sample grids hold decoded 28x28 images (16 in 4 columns, x2)");

        Path png = dir.resolve("s.png");
        CliTest.Run s = CliTest.run("sample", "--model", ldm.toString(), "--sampler", "ddim", "--steps", "3", "--n", "4", "--device", "java",
                "--out", png.toString());
        assertEquals(0, s.code(), s.err());
        assertTrue(s.out().contains("sample shape [1, 28, 28] decoded from latents [4, 8, 8]"), s.out());
        assertEquals(2 * (28 * 2 + 2) + 2, ImageIO.read(png.toFile()).getWidth(), "decoded 28x28 images");

        CliTest.Run bad = CliTest.run("train", "--data", "png:" + data, "--vae", vae.resolve("checkpoint-6").toString(), "--objective", "consistency",
                "--steps", "2", "--device", "java", "--out", dir.resolve("bad").toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("not supported"), bad.err());
    }
}
