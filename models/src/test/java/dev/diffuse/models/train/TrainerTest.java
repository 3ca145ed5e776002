package dev.diffuse.models.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.diffuse.models.data.Dataset;
import dev.diffuse.models.data.Synthetic2d;
import dev.diffuse.models.io.Safetensors;
import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;

class TrainerTest {
    @TempDir
    Path tmp;

    static final Dataset RING = new Synthetic2d("ring8", 4096, 5);

    static MlpModel small(Device d, long init) {
        return new MlpModel(d, new MlpModel.Config(new int[]{2}, 32, 3, 16, 8), 64, init);
    }

    static TrainConfig cfg(int steps) {
        return TrainConfig.defaults(steps, 32).withLr(2e-3, 5).withEma(0.99).withSeed(42).withEvery(5, 0, 0);
    }

    @Test
    void lossDecreasesOnRing8AndSamplesLandOnTheRing() throws IOException {
        TrainConfig c = TrainConfig.defaults(400, 128).withLr(2e-3, 20).withEma(0.99).withSeed(3).withEvery(50, 0, 0);
        Synthetic2d data = Synthetic2d.of("ring8");
        try (MlpModel m = new MlpModel(TestDevices.java(), MlpModel.Config.defaults(new int[]{2}, 8), 128, 1);
             Trainer tr = new Trainer(m, data, c)) {
            tr.run();
            double[] l = tr.lossValues();
            assertEquals(8, l.length);
            System.out.println("ring8 losses every 50 steps: " + java.util.Arrays.toString(l));
            assertTrue(l[l.length - 1] < 0.6 * l[0] && l[l.length - 2] < 0.6 * l[0], java.util.Arrays.toString(l));

            // DDIM (50 steps) with the EMA weights, conditioned on classes 2 and 6: samples land in those modes
            int n = 512;
            int[] classes = {2, 6};
            float[][] xs = new float[2][];
            tr.withEmaWeights(() -> {
                for (int i = 0; i < 2; i++)
                    try (var ws = new dev.diffuse.runtime.Workspace(m.device(), "sample", 64L << 20);
                         ModelDenoiser den = new ModelDenoiser(m).classLabel(classes[i])) {
                        var sampler = new dev.diffuse.samplers.pipeline.DdimSampler(c.schedule(), 50, 0, false, 1);
                        xs[i] = sampler.sample(den, ws, 11, n, 2).toArray();
                    }
            });
            for (int i = 0; i < 2; i++) {
                int[] counts = dev.diffuse.samplers.metrics.MixtureStats.occupancy(data.mixture(), xs[i]).counts();
                System.out.println("class-" + classes[i] + " samples per mode " + java.util.Arrays.toString(counts));
                assertTrue(counts[classes[i]] > 0.8 * n, "class " + classes[i] + ": " + java.util.Arrays.toString(counts));
            }
        }
    }

    static float[][] state(Trainer tr) {
        return new float[][]{tr.model().parameters().toArray(), tr.emaParameters().toArray(), tr.m.toArray(), tr.v.toArray()};
    }

    static float[][] train(long seed, int steps) throws IOException {
        try (MlpModel m = small(TestDevices.java(), 9); Trainer tr = new Trainer(m, RING, cfg(steps).withSeed(seed))) {
            tr.run();
            return state(tr);
        }
    }

    @Test
    void deterministicOnJava() throws IOException {
        float[][] a = train(42, 12), b = train(42, 12), c = train(43, 12);
        for (int i = 0; i < 4; i++) assertArrayEquals(a[i], b[i], "slab " + i);
        assertFalse(java.util.Arrays.equals(a[0], c[0]), "another seed trains differently");
    }

    @Test
    void dataOrderIsAFunctionOfSeedAndStep() {
        assertEquals(Trainer.batchIndex(1, 7, 3, 1000), Trainer.batchIndex(1, 7, 3, 1000));
        int[] counts = new int[10];
        for (int i = 0; i < 10000; i++) counts[Trainer.timestep(5, 1 + i / 100, i % 100, 10)]++;
        for (int k = 0; k < 10; k++) assertTrue(counts[k] > 850 && counts[k] < 1150, "timestep " + k + ": " + counts[k]);
    }

    @Test
    void resumeIsExact() throws IOException {
        int n = 8;
        float[][] full = train(42, 2 * n);
        Path ck = tmp.resolve("run/checkpoint-" + n);
        List<String> written = new ArrayList<>();
        try (MlpModel m = small(TestDevices.java(), 9); Trainer tr = new Trainer(m, RING, cfg(2 * n))) {
            tr.dataSpec("ring8:4096").configWriter(dir -> {
                written.add(dir.getFileName().toString());
                m.writeConfig(dir);
            });
            tr.runUntil(n);
            tr.save(ck);
            // weights file = EMA under the model's names; config.json written into the temp folder before the rename
            try (var f = Safetensors.open(ck.resolve(Checkpoints.WEIGHTS))) {
                float[] ema = tr.emaParameters().toArray();
                for (var e : m.namedParameters().entrySet()) {
                    int off = (int) (e.getValue().offset() - m.parameters().offset());
                    float[] want = java.util.Arrays.copyOfRange(ema, off, off + (int) e.getValue().numel());
                    assertArrayEquals(want, f.readF32(e.getKey()), e.getKey());
                    assertArrayEquals(e.getValue().shape(), f.shape(e.getKey()));
                }
            }
            assertTrue(Files.isRegularFile(ck.resolve("config.json")));
            assertTrue(written.get(0).startsWith(".checkpoint-" + n + ".tmp-"), written.toString());
        }
        // the folder alone rebuilds the model with the EMA weights (what sampling loads)
        MlpModel.Config mc = MlpModel.readConfig(ck);
        assertEquals(32, mc.hidden());
        try (MlpModel fresh = new MlpModel(TestDevices.java(), mc, 4, 77); MlpModel other = new MlpModel(TestDevices.java(),
                new MlpModel.Config(new int[]{2}, 16, 3, 16, 8), 4, 1)) {
            Checkpoints.loadWeights(fresh, ck);
            try (MlpModel m5 = small(TestDevices.java(), 5); Trainer again = Trainer.resume(ck, m5, RING)) {
                assertArrayEquals(again.emaParameters().toArray(), fresh.parameters().toArray());
            }
            String msg = assertThrows(IOException.class, () -> Checkpoints.loadWeights(other, ck)).getMessage();
            assertTrue(msg.contains("does not match the model"), msg);
        }
        try (var s = Files.list(ck.getParent())) {
            assertEquals(List.of("checkpoint-" + n), s.map(p -> p.getFileName().toString()).toList(), "no temp folders left");
        }
        try (MlpModel m = small(TestDevices.java(), 1234); Trainer tr = Trainer.resume(ck, m, RING)) {
            assertEquals(n, tr.step());
            assertEquals(cfg(2 * n), tr.config());
            assertArrayEquals(new int[]{5}, tr.lossSteps(), "loss history restored");
            tr.run();
            float[][] resumed = state(tr);
            for (int i = 0; i < 4; i++) assertArrayEquals(full[i], resumed[i], "slab " + i + " after resume");
            assertArrayEquals(new int[]{5, 10, 15, 16}, tr.lossSteps());
        }
    }

    @Test
    void periodicCheckpointsListenerAndLatest() throws IOException {
        Path out = tmp.resolve("out");
        List<String> events = new ArrayList<>();
        int[] nanSteps = {0};
        try (MlpModel m = small(TestDevices.java(), 9);
             Trainer tr = new Trainer(m, RING, cfg(10).withEvery(5, 4, 4)).outputDir(out).listener(new TrainListener() {
                 @Override public void onStep(int step, int total, double loss, double rate) {
                     if (Double.isNaN(loss)) nanSteps[0]++;
                     assertEquals(10, total);
                     assertTrue(rate > 0);
                 }
                 @Override public void onLoss(int step, double loss) { events.add("loss" + step); }
                 @Override public void onSampleDue(int step, Trainer t) {
                     float[] ema = t.emaParameters().toArray();
                     float[] before = t.model().parameters().toArray();
                     t.withEmaWeights(() -> assertArrayEquals(ema, t.model().parameters().toArray()));
                     assertArrayEquals(before, t.model().parameters().toArray(), "training weights restored");
                     events.add("sample" + step);
                 }
                 @Override public void onCheckpoint(int step, Path folder) { events.add("ckpt" + step); }
             })) {
            tr.run();
        }
        assertEquals(List.of("sample4", "ckpt4", "loss5", "sample8", "ckpt8", "loss10", "ckpt10"), events);
        assertEquals(8, nanSteps[0]);
        Files.createDirectories(out.resolve(".checkpoint-50.tmp-123"));
        Files.createDirectories(out.resolve("checkpoint-40")); // incomplete: no files
        assertEquals(out.resolve("checkpoint-10"), Trainer.latestCheckpoint(out));
        assertNull(Trainer.latestCheckpoint(tmp.resolve("none")));
        // overwriting an existing checkpoint folder replaces it whole
        try (MlpModel m = small(TestDevices.java(), 9); Trainer tr = Trainer.resume(out.resolve("checkpoint-4"), m, RING)) {
            tr.outputDir(out).runUntil(8);
            tr.checkpoint();
        }
        assertEquals(out.resolve("checkpoint-10"), Trainer.latestCheckpoint(out));
    }

    /** Same parameters as an MlpModel but another class: checkpoints must not cross model types. */
    static final class Other implements TrainableModel {
        final MlpModel inner = small(TestDevices.java(), 1);
        public Device device() { return inner.device(); }
        public Tensor parameters() { return inner.parameters(); }
        public Tensor gradients() { return inner.gradients(); }
        public Map<String, Tensor> namedParameters() { return inner.namedParameters(); }
        public int[] sampleShape() { return inner.sampleShape(); }
        public int maxBatch() { return inner.maxBatch(); }
        public void forward(Tensor out, Tensor x, Tensor t, Tensor y) { inner.forward(out, x, t, y); }
        public void backward(Tensor dOut, Tensor dx) { inner.backward(dOut, dx); }
        public void close() { inner.close(); }
    }

    @Test
    void badCheckpoints() throws IOException {
        Path ck = tmp.resolve("ck");
        try (MlpModel m = small(TestDevices.java(), 9); Trainer tr = new Trainer(m, RING, cfg(4))) {
            tr.runUntil(2);
            tr.save(ck);
        }
        String msg;
        try (MlpModel bigger = new MlpModel(TestDevices.java(), new MlpModel.Config(new int[]{2}, 48, 3, 16, 8), 64, 1)) {
            msg = assertThrows(IOException.class, () -> Trainer.resume(ck, bigger, RING).close()).getMessage();
            assertTrue(msg.contains("does not match the model") && msg.contains("input.weight"), msg);
        }
        try (MlpModel uncond = new MlpModel(TestDevices.java(), new MlpModel.Config(new int[]{2}, 32, 3, 16, 0), 64, 1)) {
            msg = assertThrows(IOException.class, () -> Trainer.resume(ck, uncond, RING).close()).getMessage();
            assertTrue(msg.contains("unexpected tensor") && msg.contains("class_embedding"), msg);
        }
        try (Other o = new Other()) {
            msg = assertThrows(IOException.class, () -> Trainer.resume(ck, o, RING).close()).getMessage();
            assertTrue(msg.contains("MlpModel model"), msg);
        }
        try (MlpModel m = small(TestDevices.java(), 9); Trainer tr = new Trainer(m, RING, cfg(1))) {
            msg = assertThrows(IOException.class, () -> tr.load(ck)).getMessage();
            assertTrue(msg.contains("raise --steps"), msg);
        }
        Files.delete(ck.resolve(Checkpoints.WEIGHTS));
        try (MlpModel m = small(TestDevices.java(), 9)) {
            msg = assertThrows(IOException.class, () -> Trainer.resume(ck, m, RING).close()).getMessage();
            assertTrue(msg.contains("incomplete") && msg.contains(Checkpoints.WEIGHTS), msg);
        }
        Files.delete(ck.resolve(Checkpoints.STATE));
        msg = assertThrows(IOException.class, () -> Trainer.readConfig(ck)).getMessage();
        assertTrue(msg.contains("no " + Checkpoints.STATE), msg);
        msg = assertThrows(IOException.class, () -> Trainer.readConfig(tmp.resolve("absent"))).getMessage();
        assertTrue(msg.contains("does not exist"), msg);
        Files.writeString(ck.resolve(Checkpoints.STATE), "garbage!");
        assertThrows(IOException.class, () -> Trainer.readConfig(ck));
    }

    @Test
    void argumentErrors() {
        try (MlpModel m = small(TestDevices.java(), 9)) {
            var e = assertThrows(IllegalArgumentException.class, () -> new Trainer(m, RING, TrainConfig.defaults(10, 65)));
            assertTrue(e.getMessage().contains("maxBatch"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new Trainer(m, new Synthetic2d("gmm16d", 10, 1), cfg(2)));
            assertTrue(e.getMessage().contains("[16]"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> TrainConfig.defaults(0, 8));
        assertThrows(IllegalArgumentException.class, () -> cfg(5).withLr(-1, 0));
        assertEquals(1e-3 * 0.5, TrainConfig.defaults(10, 8).withLr(1e-3, 4).lrAt(2), 1e-15);
    }

    @Test
    void openClTrainsLikeJava() throws IOException {
        Device cl = TestDevices.openCl();
        float[][] j = train(42, 4);
        try (MlpModel m = small(cl, 9); Trainer tr = new Trainer(m, RING, cfg(4))) {
            tr.run();
            float[][] c = state(tr);
            Close.assertClose(j[0], c[0], 1e-4, 1e-3, "params after 4 steps, OpenCL vs Java");
            Close.assertClose(j[1], c[1], 1e-4, 1e-3, "EMA after 4 steps, OpenCL vs Java");
        }
    }

    @Test
    void deviceBatchesEqualHostBatches() throws IOException {
        Device cl = TestDevices.openCl();
        Dataset odd = new Synthetic2d("ring8", 1001, 6); // a size that is not a power of two exercises the modulo
        try (MlpModel mh = small(cl, 9); MlpModel md = small(cl, 9);
             Trainer host = new Trainer(mh, odd, cfg(3), Trainer.DataPlacement.HOST);
             Trainer dev = new Trainer(md, odd, cfg(3), Trainer.DataPlacement.DEVICE)) {
            assertFalse(host.deviceData());
            assertTrue(dev.deviceData());
            for (int s = 1; s <= 3; s++) {
                host.runUntil(s);
                dev.runUntil(s);
                float[][] a = host.lastBatch(), b = dev.lastBatch();
                assertArrayEquals(a[0], b[0], "x0 at step " + s);
                assertArrayEquals(a[1], b[1], "t, coefficients, labels at step " + s);
            }
            assertArrayEquals(state(host)[0], state(dev)[0], "same weights after 3 steps");
        }
        try (MlpModel m = small(TestDevices.java(), 1)) {
            assertThrows(IllegalArgumentException.class, () -> new Trainer(m, odd, cfg(3), Trainer.DataPlacement.DEVICE));
        }
    }
}
