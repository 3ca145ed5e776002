package dev.diffuse.models.train;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.diffuse.models.consistency.ConsistencyConfig;
import dev.diffuse.models.consistency.ConsistencyTrainer;
import dev.diffuse.models.data.Synthetic2d;
import dev.diffuse.models.io.Safetensors;
import dev.diffuse.models.unet.UNet2DModel;
import dev.diffuse.models.unet.UNetCheckpoint;
import dev.diffuse.models.unet.UNetConfig;
import dev.diffuse.runtime.TestDevices;

/**
 * The non-finite policy: NaN/infinite weights are refused at load naming the tensor (they loaded silently and made
 * every sample NaN), and training stops at a non-finite loss or gradient norm without saving it (it kept going at
 * --lr 1e30 and saved all-NaN checkpoints).
 */
class NonFiniteTest {
    @TempDir
    Path dir;

    /** Overwrites one value of tensor {@code name} in a safetensors file with {@code value}. */
    static void poison(Path file, String name, float value) throws Exception {
        Map<String, Safetensors.F32Tensor> t = new java.util.LinkedHashMap<>();
        Map<String, String> meta;
        try (var f = Safetensors.open(file)) {
            meta = f.metadata();
            for (String n : f.names()) t.put(n, new Safetensors.F32Tensor(f.shape(n), f.readF32(n)));
        }
        t.get(name).data()[0] = value;
        Safetensors.write(file, t, meta);
    }

    @Test
    void aUNetWithANanWeightIsRefusedNamingTheTensor() throws Exception {
        try (UNet2DModel m = new UNet2DModel(UNetConfig.tiny(), TestDevices.java(), 1, false)) {
            m.initialize(1);
            UNetCheckpoint.save(m, dir);
        }
        poison(dir.resolve(UNetCheckpoint.WEIGHTS), "down_blocks.1.attentions.0.to_q.weight", Float.NaN);
        var e = assertThrows(IllegalArgumentException.class, () -> UNetCheckpoint.load(dir, TestDevices.java(), 1, false));
        assertTrue(e.getMessage().contains("'down_blocks.1.attentions.0.to_q.weight'") && e.getMessage().contains("NaN at index 0"), e.getMessage());
    }

    @Test
    void anMlpCheckpointWithAnInfiniteWeightIsRefused() throws Exception {
        Path run = dir.resolve("run");
        try (MlpModel m = new MlpModel(TestDevices.java(), MlpModel.Config.defaults(new int[]{2}, 0), 16, 1);
             Trainer tr = new Trainer(m, Synthetic2d.of("ring8"), TrainConfig.defaults(2, 16)).outputDir(run).configWriter(m::writeConfig)) {
            tr.run();
        }
        Path ck = run.resolve("checkpoint-2");
        poison(ck.resolve(Checkpoints.WEIGHTS), "output.bias", Float.POSITIVE_INFINITY);
        try (MlpModel m = new MlpModel(TestDevices.java(), MlpModel.readConfig(ck), 16, 1)) {
            var e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.loadWeights(m, ck));
            assertTrue(e.getMessage().contains("'output.bias'") && e.getMessage().contains("Infinity"), e.getMessage());
        }
    }

    @Test
    void aDivergingRunStopsKeepsTheLastGoodCheckpointAndSavesNoNan() throws Exception {
        Path run = dir.resolve("diverge");
        var data = Synthetic2d.of("ring8");
        TrainConfig good = TrainConfig.defaults(20, 16).withEvery(5, 0, 10).withLr(1e-3, 0);
        try (MlpModel m = new MlpModel(TestDevices.java(), MlpModel.Config.defaults(new int[]{2}, 0), 16, 1);
             Trainer tr = new Trainer(m, data, good).outputDir(run).configWriter(m::writeConfig)) {
            tr.runUntil(10);   // checkpoint-10, finite
        }
        Path last = run.resolve("checkpoint-10");
        TrainConfig bad = good.withLr(1e30, 0);
        try (MlpModel m = new MlpModel(TestDevices.java(), MlpModel.Config.defaults(new int[]{2}, 0), 16, 1);
             Trainer tr = new Trainer(m, data, bad).outputDir(run).configWriter(m::writeConfig)) {
            tr.load(last);
            var e = assertThrows(TrainingDivergedException.class, tr::run);
            assertTrue(e.step() > 10 && e.step() <= 15, "caught at the first loss read-back: step " + e.step());
            assertTrue(e.getMessage().contains("last good one is " + last) && e.getMessage().contains("1.0e30"), e.getMessage());
        }
        try (var s = Files.list(run)) {
            assertEquals(java.util.List.of(last), s.toList(), "no checkpoint of the diverged steps");
        }
    }

    @Test
    void aNanThatTheLossHasNotSeenYetIsNotSavedEither() throws Exception {
        // log every 100 steps, checkpoint at 5: the check before saving reads the loss and gradient norm anyway
        Path run = dir.resolve("unlogged");
        TrainConfig cfg = TrainConfig.defaults(10, 16).withEvery(100, 0, 5).withLr(1e30, 0);
        try (MlpModel m = new MlpModel(TestDevices.java(), MlpModel.Config.defaults(new int[]{2}, 0), 16, 1);
             Trainer tr = new Trainer(m, Synthetic2d.of("ring8"), cfg).outputDir(run).configWriter(m::writeConfig)) {
            var e = assertThrows(TrainingDivergedException.class, tr::run);
            assertEquals(5, e.step());
            assertTrue(e.getMessage().contains("no earlier checkpoint"), e.getMessage());
        }
        assertFalse(Files.exists(run.resolve("checkpoint-5")));
    }

    @Test
    void consistencyTrainingStopsToo() throws Exception {
        var data = Synthetic2d.of("ring8");
        ConsistencyConfig d = ConsistencyConfig.defaults2d(20, 16, 1.0, 1);
        ConsistencyConfig cfg = new ConsistencyConfig(d.steps(), d.batch(), 1e30, 0, d.sigmaMin(), d.sigmaMax(), d.rho(), d.sigmaData(),
                d.s0(), d.s1(), d.mu0(), 0, d.seed(), 5);
        try (MlpModel m = new MlpModel(TestDevices.java(), MlpModel.Config.defaults(new int[]{2}, 0), 16, 1);
             ConsistencyTrainer tr = new ConsistencyTrainer(m, data, cfg)) {
            var e = assertThrows(TrainingDivergedException.class, tr::run);
            assertTrue(e.step() <= 10, "step " + e.step());
            assertThrows(TrainingDivergedException.class, () -> tr.save(dir.resolve("checkpoint-x"), m::writeConfig, "ring8"));
        }
        assertFalse(Files.exists(dir.resolve("checkpoint-x")));
    }
}
