package dev.diffuse.models.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

import dev.diffuse.models.data.Synthetic2d;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.flow.FlowSampler;
import dev.diffuse.samplers.metrics.MixtureStats;

/** Flow-matching training (TrainConfig.Objective.FLOW) of the MLP on ring8, sampled with flow-heun. */
class FlowTrainingTest {
    static final int N = 2000;

    static float[] sample(MlpModel m, int steps) {
        try (var ws = new Workspace(m.device(), "flow sample", 64L << 20); FlowModelDenoiser den = new FlowModelDenoiser(m)) {
            return new FlowSampler(steps, FlowSampler.Method.HEUN).sample(den, ws, 11, N, 2).toArray();
        }
    }

    @Test
    void flowTrainedMlpSamplesRing8() throws IOException {
        Synthetic2d data = Synthetic2d.of("ring8");
        var mix = data.mixture();
        TrainConfig c = TrainConfig.defaults(2000, 128).withLr(2e-3, 20).withEma(0.995).withSeed(3).withEvery(250, 0, 0)
                .withObjective(TrainConfig.Objective.FLOW);
        try (MlpModel m = new MlpModel(TestDevices.java(), MlpModel.Config.defaults(new int[]{2}, 0), 128, 1);
             Trainer tr = new Trainer(m, data, c)) {
            float[] untrained = sample(m, 20);
            tr.run();
            double[] l = tr.lossValues();
            System.out.println("flow ring8 losses every 250 steps: " + Arrays.toString(l));
            float[][] xs = new float[1][];
            tr.withEmaWeights(() -> xs[0] = sample(m, 40));
            var exact = MixtureStats.exactMeanLogDensity(mix, N, 99);
            var trained = MixtureStats.meanLogDensity(mix, xs[0]);
            var before = MixtureStats.meanLogDensity(mix, untrained);
            var occ = MixtureStats.occupancy(mix, xs[0]);
            System.out.printf("flow ring8: mean log p exact %.3f +- %.3f, trained %.3f +- %.3f, untrained %.3f +- %.3f%n",
                    exact.mean(), exact.standardError(), trained.mean(), trained.standardError(), before.mean(), before.standardError());
            System.out.println("flow ring8 occupancy " + Arrays.toString(occ.counts()) + " max|z| " + occ.maxAbsZ()
                    + " untrained " + Arrays.toString(MixtureStats.occupancy(mix, untrained).counts()));
            // a short run: within 1 nat of the exact mean log density (untrained is many nats away), every mode used
            assertTrue(trained.mean() > exact.mean() - 1.0, "trained " + trained + " vs exact " + exact);
            assertTrue(before.mean() < exact.mean() - 3.0, "untrained " + before + " should be far off: the test can fail");
            for (int k = 0; k < 8; k++) assertTrue(occ.fraction()[k] > 0.125 * 0.5 && occ.fraction()[k] < 0.125 * 1.5,
                    "mode " + k + ": " + Arrays.toString(occ.counts()));
            // the flow loss has a large irreducible part (E Var[x0 - eps | x_t] ~ 3.8 here): it only needs to go down
            assertTrue(l[l.length - 1] < 0.9 * l[0], Arrays.toString(l));
        }
    }

    @Test
    void flowTimesAreUniformAndTheSameOnOpenCl() {
        float[] t = FlowTimes.times(10_000, 7, 5);
        double mean = 0;
        for (float v : t) { assertTrue(v > 0 && v < 1); mean += v; }
        assertEquals(0.5, mean / t.length, 0.01);
        var cl = TestDevices.openCl();
        try (Tensor meta = Tensor.allocate(cl, 4, 37); Tensor metaJ = Tensor.allocate(TestDevices.java(), 4, 37)) {
            FlowTimes.draw(meta, 37, 7, 5, 1000f);
            FlowTimes.draw(metaJ, 37, 7, 5, 1000f);
            float[] a = meta.toArray(), b = metaJ.toArray();
            assertArrayEquals(Arrays.copyOf(b, 74), Arrays.copyOf(a, 74));
            assertEquals(1000f * t[3], b[3]);
        }
    }

    @Test
    void flowRunsAreReproducibleAndEpsilonIsTheDefault() throws IOException {
        assertEquals(TrainConfig.Objective.EPSILON, TrainConfig.defaults(1, 1).objective());
        TrainConfig c = TrainerTest.cfg(6).withObjective(TrainConfig.Objective.FLOW);
        float[][] a, b;
        try (MlpModel m = TrainerTest.small(TestDevices.java(), 9); Trainer tr = new Trainer(m, TrainerTest.RING, c)) {
            tr.run();
            a = TrainerTest.state(tr);
        }
        try (MlpModel m = TrainerTest.small(TestDevices.java(), 9); Trainer tr = new Trainer(m, TrainerTest.RING, c)) {
            tr.run();
            b = TrainerTest.state(tr);
        }
        try (MlpModel m = TrainerTest.small(TestDevices.java(), 9); Trainer tr = new Trainer(m, TrainerTest.RING, TrainerTest.cfg(6))) {
            tr.run();
            assertFalse(Arrays.equals(a[0], TrainerTest.state(tr)[0]), "FLOW trains differently from EPSILON");
        }
        for (int i = 0; i < a.length; i++) assertArrayEquals(a[i], b[i], "slab " + i);
    }
}
