package dev.diffuse.models.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.diffuse.models.data.Synthetic2d;
import dev.diffuse.models.train.MlpModel;
import dev.diffuse.models.train.ModelDenoiser;
import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.models.train.TrainConfig;
import dev.diffuse.models.train.Trainer;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.consistency.DdpmConsistencySampler;
import dev.diffuse.samplers.pipeline.DdimSampler;
import dev.diffuse.samplers.schedule.DiscreteSchedule;

/**
 * Consistency distillation of a DDPM-trained MLP on ring8: the one-step student lands where the teacher's DDIM
 * trajectory ends from the same noise; resume is bit-exact.
 */
class ConsistencyDistillerTest {
    @TempDir Path tmp;
    static final Synthetic2d RING = Synthetic2d.of("ring8");
    static final MlpModel.Config MLP = MlpModel.Config.defaults(new int[]{2}, 0);

    static MlpModel teacher(Device d) throws Exception {
        MlpModel t = new MlpModel(d, MLP, 256, 1);
        TrainConfig c = TrainConfig.defaults(800, 128).withLr(2e-3, 20).withEma(0.99).withSeed(3).withEvery(100, 0, 0);
        try (Trainer tr = new Trainer(t, RING, c)) {
            tr.run();
            t.parameters().copyFrom(tr.emaParameters());
        }
        return t;
    }

    /** Mean squared distance between paired 2-D samples. */
    static double distance(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) (a[i] - b[i]) * (a[i] - b[i]);
        return s / (a.length / 2.0);
    }

    @Test
    void oneStepStudentLandsWhereTheTeachersDdimEnds() throws Exception {
        Device d = TestDevices.java();
        DiscreteSchedule s = DiscreteSchedule.ddpmDefault();
        int n = 2000;
        try (MlpModel t = teacher(d); MlpModel st = new MlpModel(d, MLP, 256, 2); Workspace ws = new Workspace(d, "test", 64L << 20)) {
            float[] ddim;
            try (ModelDenoiser den = new ModelDenoiser(t, s)) {
                ddim = new DdimSampler(s, 10, 0, false, 1).sample(den, ws, 17, n, 2).toArray();
            }
            DistillConfig c = new DistillConfig(800, 128, 1e-3, 20, 10, 900, 0.95, 0.5, false, 1.0, 5, 100);
            DdpmConsistencySampler one = new DdpmConsistencySampler(s, new int[]{900}, false);
            try (ConsistencyDistiller cd = new ConsistencyDistiller(st, t, RING, c)) {
                double before = distance(ddim, sample(cd, st, one, ws, n)), data = distance(ddim, new float[ddim.length]);
                cd.runUntil(800, null);
                double after = distance(ddim, sample(cd, st, one, ws, n));
                double[] l = cd.lossValues();
                System.out.printf("CD ring8: 1-step student vs teacher DDIM-10 mean squared distance %.3f before, %.3f after (E|x|^2 = %.2f); "
                        + "losses %s%n", before, after, data, java.util.Arrays.toString(l));
                assertTrue(before > 0.5 * data, "the teacher's own x0 at t = 900 is near the mean: " + before);
                assertTrue(after < 0.1 * data && after < 0.2 * before, "after distillation: " + after + " (before " + before + ")");
                assertEquals(ModelObjective.Kind.CONSISTENCY_DDPM, cd.objective().kind());
            }
        }
    }

    static float[] sample(ConsistencyDistiller cd, MlpModel st, DdpmConsistencySampler smp, Workspace ws, int n) {
        float[][] out = new float[1][];
        cd.withTargetWeights(() -> {
            try (DdpmConsistencyDenoiser den = new DdpmConsistencyDenoiser(st, DiscreteSchedule.ddpmDefault(), 0.5)) {
                out[0] = smp.sample(den, ws, 17, n, 2).toArray();
            }
        });
        return out[0];
    }

    /** 2N steps straight == N steps, checkpoint, fresh student resumed from it, N more: student and target bit for bit. */
    @Test
    void resumeIsBitExact() throws Exception {
        Device d = TestDevices.java();
        DistillConfig c = new DistillConfig(10, 32, 1e-3, 3, 10, 700, 0.9, 0.5, true, 1.0, 8, 4);
        float[] p, tg;
        try (MlpModel t = new MlpModel(d, MLP, 32, 1); MlpModel st = new MlpModel(d, MLP, 32, 2);
             ConsistencyDistiller cd = new ConsistencyDistiller(st, t, RING, c)) {
            cd.runUntil(10, null);
            p = st.parameters().toArray();
            tg = cd.targetParameters().toArray();
        }
        try (MlpModel t = new MlpModel(d, MLP, 32, 1); MlpModel st = new MlpModel(d, MLP, 32, 2);
             ConsistencyDistiller cd = new ConsistencyDistiller(st, t, RING, c)) {
            cd.runUntil(5, null);
            cd.save(tmp.resolve("checkpoint-5"), null, "teacher", "ring8");
        }
        assertEquals(c, ConsistencyDistiller.readConfig(tmp.resolve("checkpoint-5")));
        assertEquals(ModelObjective.Kind.CONSISTENCY_DDPM, ModelObjective.read(tmp.resolve("checkpoint-5")).kind());
        try (MlpModel t = new MlpModel(d, MLP, 32, 1); MlpModel st = new MlpModel(d, MLP, 32, 3);
             ConsistencyDistiller cd = new ConsistencyDistiller(st, t, RING, c)) {
            cd.load(tmp.resolve("checkpoint-5"));
            cd.runUntil(10, null);
            assertArrayEquals(p, st.parameters().toArray(), "student after resume");
            assertArrayEquals(tg, cd.targetParameters().toArray(), "target after resume");
            assertArrayEquals(new int[]{4, 8, 10}, cd.lossSteps());
        }
        try (MlpModel t = new MlpModel(d, MLP, 32, 1); MlpModel other = new MlpModel(d, new MlpModel.Config(new int[]{2}, 32, 3, 16, 0), 32, 1)) {
            String e = assertThrows(IllegalArgumentException.class, () -> new ConsistencyDistiller(other, t, RING, c)).getMessage();
            assertTrue(e.contains("teacher's architecture"), e);
        }
    }
}
