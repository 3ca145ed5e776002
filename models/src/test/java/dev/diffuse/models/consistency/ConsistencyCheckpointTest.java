package dev.diffuse.models.consistency;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.diffuse.models.data.Synthetic2d;
import dev.diffuse.models.train.Checkpoints;
import dev.diffuse.models.train.MlpModel;
import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.runtime.TestDevices;

/** Consistency checkpoints: resuming is bit-exact on the Java device, the folder says what the network is, bad folders are named. */
class ConsistencyCheckpointTest {
    @TempDir
    Path dir;

    static final int STEPS = 30;

    static MlpModel mlp() { return new MlpModel(TestDevices.java(), MlpModel.Config.defaults(new int[]{2}, 0), 32, 1); }

    static ConsistencyConfig config(double sd) {
        ConsistencyConfig d = ConsistencyConfig.defaults2d(STEPS, 32, sd, 5);
        return new ConsistencyConfig(d.steps(), d.batch(), d.lr(), d.warmupSteps(), d.sigmaMin(), d.sigmaMax(), d.rho(), d.sigmaData(),
                d.s0(), d.s1(), 0.9, d.gradClip(), d.seed(), 5);   // mu0 0.9: the target slab differs from the weights
    }

    @Test
    void trainingTwoNStepsEqualsNStepsSaveLoadAndNSteps() throws Exception {
        Synthetic2d data = Synthetic2d.of("ring8");
        ConsistencyConfig c = config(ConsistencyTrainer.dataStd(data, 2000));
        float[] straightParams, straightTarget;
        double[] straightLoss;
        try (MlpModel m = mlp(); ConsistencyTrainer tr = new ConsistencyTrainer(m, data, c).lognormalLevels(0.6, 2)) {
            tr.run();
            straightParams = m.parameters().toArray();
            straightTarget = tr.targetParameters().toArray();
            straightLoss = tr.lossValues();
        }
        Path ck = dir.resolve("checkpoint-15");
        try (MlpModel m = mlp(); ConsistencyTrainer tr = new ConsistencyTrainer(m, data, c).lognormalLevels(0.6, 2)) {
            tr.runUntil(STEPS / 2);
            tr.save(ck, m::writeConfig, "ring8");
        }
        assertEquals(ModelObjective.Kind.CONSISTENCY, ModelObjective.read(ck).kind());
        assertEquals(c.sigmaData(), ModelObjective.read(ck).sigmaData());
        assertEquals(c, ConsistencyTrainer.readConfig(ck));
        assertArrayEquals(new double[]{0.6, 2}, ConsistencyTrainer.readLevels(ck));
        try (MlpModel m = mlp(); ConsistencyTrainer tr = new ConsistencyTrainer(m, data, c).lognormalLevels(0.6, 2)) {
            tr.load(ck);
            assertEquals(STEPS / 2, tr.step());
            tr.run();
            assertArrayEquals(straightParams, m.parameters().toArray(), "weights after resume");
            assertArrayEquals(straightTarget, tr.targetParameters().toArray(), "target weights after resume");
            assertArrayEquals(straightLoss, tr.lossValues(), "loss history after resume");
        }
        // the weights file holds the target weights, loadable for sampling
        try (MlpModel m = mlp(); MlpModel t = mlp()) {
            Checkpoints.loadWeights(m, ck);
            assertFalse(java.util.Arrays.equals(m.parameters().toArray(), t.parameters().toArray()), "trained weights were written");
        }
    }

    @Test
    void aMismatchedResumeIsRefusedWithAReason() throws Exception {
        Synthetic2d data = Synthetic2d.of("ring8");
        ConsistencyConfig c = config(2.8);
        Path ck = dir.resolve("checkpoint-3");
        try (MlpModel m = mlp(); ConsistencyTrainer tr = new ConsistencyTrainer(m, data, c)) {
            tr.runUntil(3);
            tr.save(ck, m::writeConfig, "ring8");
        }
        try (MlpModel m = mlp(); ConsistencyTrainer tr = new ConsistencyTrainer(m, data, c).lognormalLevels(0.6, 2)) {
            var e = assertThrows(java.io.IOException.class, () -> tr.load(ck));
            assertTrue(e.getMessage().contains("level sampling"), e.getMessage());
        }
        Path bad = Files.createDirectories(dir.resolve("bad"));
        Files.writeString(bad.resolve(ModelObjective.FILE), "{\"objective\":\"score\"}");
        var e = assertThrows(java.io.IOException.class, () -> ModelObjective.read(bad));
        assertTrue(e.getMessage().contains("epsilon, flow, consistency") && e.getMessage().contains("score"), e.getMessage());
        Files.writeString(bad.resolve(ModelObjective.FILE), "{\"objective\":\"consistency\",\"sigma_min\":0.002}");
        e = assertThrows(java.io.IOException.class, () -> ModelObjective.read(bad));
        assertTrue(e.getMessage().contains("sigma_max"), e.getMessage());
        assertEquals(ModelObjective.Kind.EPSILON, ModelObjective.read(dir).kind(), "no objective.json: a DDPM epsilon model");
    }
}
