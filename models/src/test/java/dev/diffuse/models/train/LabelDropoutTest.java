package dev.diffuse.models.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.diffuse.models.data.Dataset;
import dev.diffuse.models.data.Synthetic2d;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.guidance.ClassifierFreeGuidance;
import dev.diffuse.samplers.metrics.MixtureStats;
import dev.diffuse.samplers.pipeline.DdimSampler;

/** Label dropout for classifier-free guidance: which labels are dropped, host = device, checkpoints, and that guidance then works. */
class LabelDropoutTest {
    @TempDir
    Path tmp;

    static final Dataset RING = new Synthetic2d("ring8", 4096, 5);

    /** An MLP with the ring's 8 classes plus the "no class" row 8. */
    static MlpModel withNullRow(Device d, int maxBatch) {
        return new MlpModel(d, new MlpModel.Config(new int[]{2}, 32, 3, 16, 9), maxBatch, 9);
    }

    static TrainConfig cfg(int steps, double p) {
        return TrainConfig.defaults(steps, 64).withLr(2e-3, 5).withEma(0.99).withSeed(42).withEvery(5, 0, 0).withLabelDropout(p);
    }

    @Test
    void droppedLabelsAreTheNullClassAtTheRateAskedAndTheRestAreTheData() throws IOException {
        int dropped = 0, total = 0;
        try (MlpModel m = withNullRow(TestDevices.java(), 64); Trainer drop = new Trainer(m, RING, cfg(40, 0.25));
             MlpModel m2 = withNullRow(TestDevices.java(), 64); Trainer keep = new Trainer(m2, RING, cfg(40, 0))) {
            assertEquals(8, drop.nullClass());
            assertEquals(-1, keep.nullClass());
            for (int s = 1; s <= 40; s++) {
                drop.runUntil(s);
                keep.runUntil(s);
                float[] a = drop.lastBatch()[1], b = keep.lastBatch()[1];
                int row = Trainer.alignedStride(64);   // meta rows t | a | s | label, each starting on an aligned boundary
                assertArrayEquals(Arrays.copyOf(a, 3 * row), Arrays.copyOf(b, 3 * row), "timesteps and coefficients do not change");
                for (int i = 0; i < 64; i++) {
                    float la = a[3 * row + i], lb = b[3 * row + i];
                    boolean d = Trainer.labelDropped(42, s, i, (long) (0.25 * 0x1p32));
                    assertEquals(d ? 8f : lb, la, "label of row " + i + " at step " + s);
                    assertTrue(lb >= 0 && lb < 8);
                    if (d) dropped++;
                    total++;
                }
            }
        }
        double rate = (double) dropped / total;   // 2560 draws: std of the rate about 0.009
        assertTrue(Math.abs(rate - 0.25) < 0.04, "dropped share " + rate);
    }

    @Test
    void deviceBatchesDropTheSameLabelsAsHostBatches() throws IOException {
        Device cl = TestDevices.openCl();
        Dataset odd = new Synthetic2d("ring8", 1001, 6);
        try (MlpModel mh = withNullRow(cl, 64); MlpModel md = withNullRow(cl, 64);
             Trainer host = new Trainer(mh, odd, cfg(4, 0.3), Trainer.DataPlacement.HOST);
             Trainer dev = new Trainer(md, odd, cfg(4, 0.3), Trainer.DataPlacement.DEVICE)) {
            for (int s = 1; s <= 4; s++) {
                host.runUntil(s);
                dev.runUntil(s);
                assertArrayEquals(host.lastBatch()[1], dev.lastBatch()[1], "t, coefficients, labels at step " + s);
            }
        }
    }

    @Test
    void dropoutNeedsARowForNoClass() {
        try (MlpModel exact = new MlpModel(TestDevices.java(), new MlpModel.Config(new int[]{2}, 32, 3, 16, 8), 64, 1);
             MlpModel uncond = new MlpModel(TestDevices.java(), new MlpModel.Config(new int[]{2}, 32, 3, 16, 0), 64, 1)) {
            for (MlpModel m : new MlpModel[]{exact, uncond}) {
                var e = assertThrows(IllegalArgumentException.class, () -> new Trainer(m, RING, cfg(4, 0.1)));
                assertTrue(e.getMessage().contains("no class"), e.getMessage());
            }
        }
        assertThrows(IllegalArgumentException.class, () -> cfg(4, 1.0));
        assertThrows(IllegalArgumentException.class, () -> cfg(4, -0.1));
    }

    @Test
    void checkpointsRecordTheNullClassAndOldConfigsReadAsNoDropout() throws IOException {
        try (MlpModel m = withNullRow(TestDevices.java(), 64); Trainer tr = new Trainer(m, RING, cfg(2, 0.1))) {
            tr.runUntil(2);
            tr.save(tmp.resolve("ckpt"));
        }
        String obj = Files.readString(tmp.resolve("ckpt").resolve(ModelObjective.FILE));
        assertTrue(obj.contains("\"null_class\" : 8"), obj);
        assertEquals(0.1, Trainer.readConfig(tmp.resolve("ckpt")).labelDropout());

        ObjectMapper json = new ObjectMapper();
        ObjectNode old = json.valueToTree(cfg(2, 0));
        old.remove("labelDropout");
        assertEquals(0.0, json.treeToValue(old, TrainConfig.class).labelDropout(), "a checkpoint from before label dropout");
        try (MlpModel m = withNullRow(TestDevices.java(), 64); Trainer tr = new Trainer(m, RING, cfg(1, 0))) {
            tr.runUntil(1);
            tr.save(tmp.resolve("plain"));
        }
        assertFalse(Files.readString(tmp.resolve("plain").resolve(ModelObjective.FILE)).contains("null_class"));
    }

    /**
     * Trained with dropped labels, the null row learns the whole ring and guidance sharpens a class: unguided class-2
     * samples already sit mostly in mode 2; guided (scale 3) ones do at least as well, and null-class samples spread
     * over the modes.
     */
    @Test
    void guidanceWorksOnAModelTrainedWithDroppedLabels() throws IOException {
        TrainConfig c = TrainConfig.defaults(400, 128).withLr(2e-3, 20).withEma(0.99).withSeed(3).withEvery(50, 0, 0).withLabelDropout(0.2);
        Synthetic2d data = Synthetic2d.of("ring8");
        int n = 512;
        try (MlpModel m = new MlpModel(TestDevices.java(), MlpModel.Config.defaults(new int[]{2}, 9), 2 * n, 1); Trainer tr = new Trainer(m, data, c)) {
            tr.run();
            int[][] counts = new int[3][];
            tr.withEmaWeights(() -> {
                DdimSampler ddim = new DdimSampler(c.schedule(), 50, 0, false, 1);
                try (Workspace ws = new Workspace(m.device(), "sample", 64L << 20)) {
                    try (ModelDenoiser den = new ModelDenoiser(m).classLabel(2)) {
                        counts[0] = MixtureStats.occupancy(data.mixture(), ddim.sample(den, ws, 11, n, 2).toArray()).counts();
                    }
                    try (ModelDenoiser den = new ModelDenoiser(m).classLabel(8)) {
                        counts[1] = MixtureStats.occupancy(data.mixture(), ddim.sample(den, ws, 11, n, 2).toArray()).counts();
                    }
                    int[] labels = new int[n];
                    Arrays.fill(labels, 2);
                    try (ModelDenoiser den = new ModelDenoiser(m);
                         ClassifierFreeGuidance g = new ClassifierFreeGuidance(den, ws, labels, 2.0, 0, 8)) {
                        counts[2] = MixtureStats.occupancy(data.mixture(), ddim.sample(g, ws, 11, n, 2).toArray()).counts();
                    }
                }
            });
            System.out.println("class 2: " + Arrays.toString(counts[0]) + "  null: " + Arrays.toString(counts[1]) + "  class 2, scale 3: " + Arrays.toString(counts[2]));
            assertTrue(counts[0][2] > 0.7 * n, "class 2 " + Arrays.toString(counts[0]));
            assertTrue(counts[2][2] >= counts[0][2] && counts[2][2] > 0.9 * n, "guided " + Arrays.toString(counts[2]));
            assertTrue(Arrays.stream(counts[1]).allMatch(k -> k > n / 32), "null class covers every mode " + Arrays.toString(counts[1]));
        }
    }
}
