package dev.diffuse.pipeline;

import static dev.diffuse.pipeline.PipelineCrowdTest.assertBitsEqual;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.diffuse.models.train.ModelDenoiser;
import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.models.train.TrainableModel;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Samplers;

/** What one request gets: defaults per objective, chunking, streaming, labels, guidance, and equality with a plain sampler run. */
class PipelineRequestsTest {
    @TempDir
    Path dir;
    final Device java = TestDevices.java();

    static PipelineOptions batchOf(int b) { return PipelineOptions.builder().maxBatch(b).batchWindow(Duration.ZERO).build(); }

    @Test
    void eachObjectiveGetsItsDefaultsAndARunFolderItsLatestCheckpoint() throws Exception {
        Path eps = TinyModels.unconditional(dir.resolve("eps"), ModelObjective.epsilon());
        Path flow = TinyModels.unconditional(dir.resolve("flow"), ModelObjective.flow());
        Path ct = TinyModels.unconditional(dir.resolve("ct"), ModelObjective.consistency(0.002, 80, 0.5));
        String[][] expect = {{"ddim", "25"}, {"flow-heun", "12"}, {"consistency", "1"}};
        Path[] folders = {eps, flow, ct};
        for (int i = 0; i < 3; i++) {
            try (DiffusionPipeline p = DiffusionPipeline.load(folders[i], java, batchOf(4))) {
                SampleRequest r = p.resolve(SampleRequest.of(2));
                assertEquals(expect[i][0], r.sampler(), folders[i].toString());
                assertEquals(Integer.parseInt(expect[i][1]), r.steps());
                assertNotNull(r.seed());
                SampleResult res = p.sample(SampleRequest.builder().n(2).steps(2).seed(3).build());
                assertEquals(2, res.images().count());
                assertArrayEquals(new int[]{2, 2, 8, 8}, res.images().shape());
                assertEquals(0, res.nonFiniteImages());
                for (float v : res.images().data()) assertTrue(v >= -1 && v <= 1, "image values are clamped to [-1, 1]");
            }
        }
        Path run = dir.resolve("run");
        for (int step : new int[]{5, 40, 300}) {
            Path c = TinyModels.unconditional(run.resolve("checkpoint-" + step), ModelObjective.epsilon());
            Files.writeString(c.resolve("training_state.safetensors"), "");
        }
        try (DiffusionPipeline p = DiffusionPipeline.load(run, java, batchOf(2))) {
            assertEquals(run.resolve("checkpoint-300"), p.info().folder());
        }
        var missing = assertThrows(IllegalArgumentException.class, () -> DiffusionPipeline.load(dir.resolve("nope"), java));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
    }

    @Test
    void aRequestRunAloneGivesWhatAPlainSamplerRunGives() throws Exception {
        Path eps = TinyModels.unconditional(dir.resolve("eps"), ModelObjective.epsilon());
        float[] direct;
        try (TrainableModel net = ModelFolders.load(eps, java, 8, false); ModelDenoiser den = new ModelDenoiser(net);
             Workspace ws = new Workspace(java, "test", 16 << 20)) {
            var s = Samplers.create("ddpm", new Samplers.Options(3, 0, "linear", true, 0.01, 80, 0.01, 1));
            direct = s.sample(den, ws, 9L, 3, 2, 8, 8).toArray();
        }
        for (int i = 0; i < direct.length; i++) direct[i] = Math.max(-1f, Math.min(1f, direct[i]));
        try (DiffusionPipeline p = DiffusionPipeline.load(eps, java, batchOf(8))) {
            float[] piped = p.sample(SampleRequest.builder().n(3).sampler("ddpm").steps(3).seed(9).build()).images().data();
            assertBitsEqual(direct, piped, "pipeline vs plain sampler with the same seed");
        }
    }

    @Test
    void imageKDependsOnlyOnSeedAndKWhateverTheChunkingAndStreamingGivesTheSame() throws Exception {
        Path model = TinyModels.conditional(dir.resolve("tiny"));
        SampleRequest big = SampleRequest.builder().n(21).sampler("ddim").eta(1).steps(2).seed(77).classLabel(1).build();
        try (DiffusionPipeline p = DiffusionPipeline.load(model, java, batchOf(8))) {
            float[] all = p.sample(big).images().data();
            float[] head = p.sample(big.toBuilder().n(5).build()).images().data();
            assertBitsEqual(head, Arrays.copyOf(all, head.length), "the first 5 of 21 (3 chunks of 8) = a request of 5");
            List<Integer> firsts = new ArrayList<>();
            float[] streamed = new float[all.length];
            List<Double> fractions = new ArrayList<>();
            SampleResult r = p.stream(big, new SampleListener() {
                @Override public void onImages(int first, Images chunk) {
                    firsts.add(first);
                    System.arraycopy(chunk.data(), 0, streamed, first * 128, chunk.data().length);
                }

                @Override public void onProgress(Progress pr) { fractions.add(pr.fraction()); }
            });
            assertNull(r.images(), "streamed images are not kept");
            assertEquals(List.of(0, 8, 16), firsts);
            assertBitsEqual(all, streamed, "streamed = collected");
            assertEquals(3, r.batches());
            for (int i = 1; i < fractions.size(); i++) assertTrue(fractions.get(i) >= fractions.get(i - 1), "progress never goes back");
            assertEquals(1.0, fractions.getLast(), 1e-12);
        }
        try (DiffusionPipeline p = DiffusionPipeline.load(model, java, batchOf(3))) {
            assertBitsEqual(p.sample(big).images().data(), p.sample(big).images().data(), "same request twice");
        }
    }

    @Test
    void classLabelsCycleByDefaultAndGuidanceNeedsANullClass() throws Exception {
        Path model = TinyModels.conditional(dir.resolve("tiny"));
        SampleRequest two = SampleRequest.builder().n(2).sampler("ddim").steps(2).seed(5).build();
        try (DiffusionPipeline p = DiffusionPipeline.load(model, java, batchOf(4))) {
            assertTrue(p.info().supportsGuidance());
            float[] cycled = p.sample(two).images().data();
            float[] zero = p.sample(two.toBuilder().classLabel(0).build()).images().data();
            float[] one = p.sample(two.toBuilder().classLabel(1).build()).images().data();
            assertBitsEqual(Arrays.copyOfRange(zero, 0, 128), Arrays.copyOfRange(cycled, 0, 128), "image 0 gets class 0");
            assertBitsEqual(Arrays.copyOfRange(one, 128, 256), Arrays.copyOfRange(cycled, 128, 256), "image 1 gets class 1");
            float[] scaleOne = p.sample(two.toBuilder().classLabel(1).guidance(1).build()).images().data();
            assertBitsEqual(one, scaleOne, "guidance scale 1 is no guidance");
            float[] guided = p.sample(two.toBuilder().classLabel(1).guidance(4).build()).images().data();
            assertFalse(Arrays.equals(one, guided), "guidance 4 changes the images");
        }
        Path uncond = TinyModels.unconditional(dir.resolve("u"), ModelObjective.epsilon());
        try (DiffusionPipeline p = DiffusionPipeline.load(uncond, java, batchOf(4))) {
            var g = assertThrows(IllegalArgumentException.class, () -> p.sample(two.toBuilder().guidance(3).build()));
            assertTrue(g.getMessage().startsWith("guidance: ") && g.getMessage().contains("unconditional"), g.getMessage());
            var l = assertThrows(IllegalArgumentException.class, () -> p.sample(two.toBuilder().classLabel(0).build()));
            assertTrue(l.getMessage().contains("leave classLabel unset"), l.getMessage());
        }
    }

    @Test
    void aSamplerThatCouplesItsRowsRunsAsOneBatchOnly() throws Exception {
        Path eps = TinyModels.unconditional(dir.resolve("eps"), ModelObjective.epsilon());
        try (DiffusionPipeline p = DiffusionPipeline.load(eps, java, batchOf(4))) {
            SampleRequest pc = SampleRequest.builder().n(4).sampler("pc-vp").steps(2).seed(1).build();
            assertEquals(4, p.sample(pc).images().count());
            var e = assertThrows(IllegalArgumentException.class, () -> p.sample(pc.toBuilder().n(5).build()));
            assertTrue(e.getMessage().contains("at most 4"), e.getMessage());
        }
    }
}
