package dev.diffuse.models.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.TestDevices;

/** The VAE trainer on 2x8x8 stripes: losses fall, reconstructions get close, resume is bit-exact. */
class VaeTrainerTest {
    @TempDir Path tmp;

    static VaeTrainConfig cfg(int steps) {
        return new VaeTrainConfig(steps, 8, 3e-3, 5, 0, 1e-3, 0.9, 1.0, 7, 5, 0);
    }

    @Test
    void lossFallsAndTheCheckpointReconstructs() throws Exception {
        Device j = TestDevices.java();
        Stripes data = new Stripes(64);
        try (AutoencoderKL m = new AutoencoderKL(AutoencoderKLConfig.tiny(), j, 8, true); VaeTrainer tr = new VaeTrainer(m, data, cfg(120))) {
            m.initialize(2);
            tr.runUntil(120);
            double[] rec = tr.reconstructionLosses();
            assertTrue(rec[rec.length - 1] < 0.3 * rec[0], "reconstruction MSE falls: " + java.util.Arrays.toString(rec));
            double sf = tr.save(tmp.resolve("checkpoint-120"));
            assertTrue(sf > 0 && Double.isFinite(sf), "scaling factor " + sf);
            AutoencoderKLConfig saved = VaeCheckpoint.readConfig(tmp.resolve("checkpoint-120"));
            assertEquals(sf, saved.scalingFactor(), 1e-12);
            try (AutoencoderKL ema = VaeCheckpoint.load(tmp.resolve("checkpoint-120"), j, 8, false)) {
                float[] z = Latents.encode(ema, data, Latents.spread(64, 1000));
                assertEquals(1 / sf, std(z), 1e-4 / sf, "the scaling factor is 1 / std of the EMA model's latent means");
            }
        }
    }

    /** 2N steps in one go == N steps, checkpoint, a fresh model and trainer resumed from it, N more: every slab bit for bit. */
    @Test
    void resumeIsBitExact() throws Exception {
        Device j = TestDevices.java();
        Stripes data = new Stripes(40);
        float[] straight, ema;
        try (AutoencoderKL m = new AutoencoderKL(AutoencoderKLConfig.tiny(), j, 8, true); VaeTrainer tr = new VaeTrainer(m, data, cfg(12))) {
            m.initialize(3);
            tr.runUntil(12);
            straight = m.parameters().toArray();
            ema = tr.emaParameters().toArray();
        }
        try (AutoencoderKL m = new AutoencoderKL(AutoencoderKLConfig.tiny(), j, 8, true); VaeTrainer tr = new VaeTrainer(m, data, cfg(12))) {
            m.initialize(3);
            tr.runUntil(6);
            tr.save(tmp.resolve("checkpoint-6"));
        }
        assertEquals(cfg(12), VaeTrainer.readConfig(tmp.resolve("checkpoint-6")));
        try (AutoencoderKL m = new AutoencoderKL(AutoencoderKLConfig.tiny(), j, 8, true); VaeTrainer tr = new VaeTrainer(m, data, cfg(12))) {
            m.initialize(99); // overwritten by the checkpoint
            tr.load(tmp.resolve("checkpoint-6"));
            assertEquals(6, tr.step());
            tr.runUntil(12);
            assertArrayEquals(straight, m.parameters().toArray(), "weights after resume");
            assertArrayEquals(ema, tr.emaParameters().toArray(), "EMA after resume");
            assertArrayEquals(new int[]{5, 10, 12}, tr.lossSteps(), "loss history: step 5 from the checkpoint, then 10 and the last");
        }
        try (AutoencoderKL m = new AutoencoderKL(AutoencoderKLConfig.of(2, java.util.List.of(8, 16), 1, 2, 4, 8), j, 8, true);
             VaeTrainer tr = new VaeTrainer(m, data, cfg(12))) {
            String e = assertThrows(java.io.IOException.class, () -> tr.load(tmp.resolve("checkpoint-6"))).getMessage();
            assertTrue(e.contains("a different model size"), e);
        }
    }

    static double std(float[] z) {
        double s = 0, s2 = 0;
        for (float v : z) { s += v; s2 += (double) v * v; }
        double mean = s / z.length;
        return Math.sqrt(s2 / z.length - mean * mean);
    }
}
