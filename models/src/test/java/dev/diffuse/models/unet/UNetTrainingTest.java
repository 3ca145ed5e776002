package dev.diffuse.models.unet;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.diffuse.models.data.Dataset;
import dev.diffuse.models.train.FlowModelDenoiser;
import dev.diffuse.models.train.ModelDenoiser;
import dev.diffuse.models.train.TrainConfig;
import dev.diffuse.models.train.Trainer;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Philox;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.Samplers;

/**
 * The U-Net through the real trainer, both objectives (DDPM epsilon and flow matching), class-conditional, on a tiny
 * synthetic image set: the loss falls and the trained model samples finite images of the right shape with the
 * objective's own sampler. (Sample quality is judged on Fashion-MNIST with a GPU; this checks the plumbing.)
 */
class UNetTrainingTest {

    /** 2x8x8 images: one bright 3x3 square per image at a class-dependent corner, plus a little noise. */
    static final class Squares implements Dataset {
        @Override public String description() { return "squares (test)"; }
        @Override public int size() { return 256; }
        @Override public int[] sampleShape() { return new int[]{2, 8, 8}; }
        @Override public int numClasses() { return 3; }

        @Override
        public void fill(int[] indices, float[] batch, float[] labels) {
            for (int i = 0; i < indices.length; i++) {
                int k = indices[i] % 3, oy = k == 1 ? 4 : 1, ox = k == 2 ? 4 : 1;
                labels[i] = k;
                for (int c = 0; c < 2; c++)
                    for (int y = 0; y < 8; y++)
                        for (int x = 0; x < 8; x++) {
                            boolean on = y >= oy && y < oy + 3 && x >= ox && x < ox + 3;
                            batch[i * 128 + c * 64 + y * 8 + x] = (on ? 0.8f : -0.8f) + 0.05f * (Philox.uniform(indices[i], c, y * 8 + x) - 0.5f);
                        }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TrainConfig.Objective.class)
    void trainsAndSamplesWithEitherObjective(TrainConfig.Objective objective) throws Exception {
        Device d = TestDevices.java();
        TrainConfig cfg = TrainConfig.defaults(60, 16).withLr(2e-3, 10).withEvery(10, 0, 0).withSeed(5).withObjective(objective);
        try (UNet2DModel m = new UNet2DModel(UNetConfig.tiny(), d, 16, true); Trainer tr = new Trainer(m, new Squares(), cfg)) {
            m.initialize(5);
            tr.run();
            double[] loss = tr.lossValues();
            assertTrue(loss.length >= 5, "losses read every 10 steps: " + java.util.Arrays.toString(loss));
            double first = loss[0], last = (loss[loss.length - 1] + loss[loss.length - 2]) / 2;
            assertTrue(last < 0.8 * first, objective + ": loss should fall, got " + java.util.Arrays.toString(loss));
            String samplerName = objective == TrainConfig.Objective.FLOW ? "flow-euler" : "ddim";
            Sampler s = Samplers.create(samplerName, Samplers.Options.defaults(10));
            float[] x;
            try (Workspace ws = new Workspace(d, "samples", 1 << 22)) {
                Denoiser den = objective == TrainConfig.Objective.FLOW ? new FlowModelDenoiser(m).classLabel(1) : new ModelDenoiser(m).classLabel(1);
                x = s.sample(den, ws, 3, 5, 2, 8, 8).toArray();
                ((AutoCloseable) den).close();
            }
            assertEquals(5 * 128, x.length);
            for (float v : x) assertTrue(Float.isFinite(v), objective + ": non-finite sample value");
        }
    }

    /** The exactness check on the U-Net itself: 2N steps equal N steps + checkpoint + resume + N steps, bit for bit. */
    @org.junit.jupiter.api.Test
    void resumingTheUNetIsBitExact(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        Device d = TestDevices.java();
        int n = 6;
        TrainConfig cfg = TrainConfig.defaults(2 * n, 8).withLr(1e-3, 2).withEvery(2, 0, 0).withSeed(9);
        float[] straight, ema;
        try (UNet2DModel m = new UNet2DModel(UNetConfig.tiny(), d, 8, true); Trainer tr = new Trainer(m, new Squares(), cfg)) {
            m.initialize(9);
            tr.run();
            straight = m.parameters().toArray();
            ema = tr.emaParameters().toArray();
        }
        java.nio.file.Path ck = tmp.resolve("checkpoint-" + n);
        try (UNet2DModel m = new UNet2DModel(UNetConfig.tiny(), d, 8, true); Trainer tr = new Trainer(m, new Squares(), cfg)) {
            m.initialize(9);
            tr.configWriter(dir -> java.nio.file.Files.writeString(dir.resolve("config.json"), m.config().toJson()));
            tr.runUntil(n);
            tr.save(ck);
        }
        try (UNet2DModel m = new UNet2DModel(UNetConfig.tiny(), d, 8, true); Trainer tr = Trainer.resume(ck, m, new Squares())) {
            assertEquals(n, tr.step());
            tr.run();
            assertArrayEquals(straight, m.parameters().toArray(), "weights after resume");
            assertArrayEquals(ema, tr.emaParameters().toArray(), "EMA after resume");
        }
    }
}
