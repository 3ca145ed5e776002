package dev.diffuse.spark;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.diffuse.models.data.Dataset;
import dev.diffuse.models.data.Datasets;
import dev.diffuse.pipeline.Images;
import dev.diffuse.pipeline.SampleRequest;
import dev.diffuse.pipeline.eval.ImageLikelihood;
import dev.diffuse.pipeline.eval.PixelSlicedW2;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.samplers.likelihood.ProbabilityFlowLikelihood;

/**
 * The evaluation job equals the single-machine computation on the same inputs, to the last bit: sliced-W2 and its floor
 * over a generated data set and over Fashion-MNIST's test set read from its IDX files, class counts, and PF-ODE
 * bits/dim of test images split across tasks in other batch sizes. Tiny 28x28 U-Nets stand in for a trained model.
 */
class EvaluateJobTest {
    static SparkSession spark;
    @TempDir
    static Path dir;

    @BeforeAll
    static void start() { spark = SparkTests.session("local[2]", "EvaluateJobTest"); }

    @AfterAll
    static void stop() { spark.stop(); }

    static EvaluateJob.Spec sw2Of(String data, int max) {
        return new EvaluateJob.Spec(data, null, "fashion-mnist:test", max, null, null, 0, ImageLikelihood.Settings.defaults(), "java", 4, 3);
    }

    @Test
    void slicedW2AndClassCountsOfAGeneratedDataSetAreTheSingleMachineOnes() throws Exception {
        Path model = TinyImageModels.write(dir.resolve("cond28"), 28, 4); // classes 0..2 cycle
        SampleRequest run = SampleRequest.builder().n(24).seed(3).sampler("ddim").steps(2).build();
        Path out = dir.resolve("gen");
        GenerateJob.run(spark, new GenerateSpec(ModelRef.of(model), run, "java", 4, 3, 4, true), out.toString(), false, TaskProbe.NONE);
        Images alone = SparkTests.alone(model, run, 8);

        EvaluateJob.Report r = EvaluateJob.run(spark, sw2Of(out.toString(), 20));
        PixelSlicedW2.Result one = PixelSlicedW2.compute(alone.data(), 20, 784, "fashion-mnist:test", null);
        assertEquals(one, r.sw2(), "sliced-W2 and floor equal diffuse sample --reference's to the last bit");
        assertEquals("tensor", r.values());
        assertEquals(24L, r.images());
        assertEquals(Map.of(0, 8L, 1, 8L, 2, 8L), r.classCounts());
        assertTrue(r.describe().contains("images per class: 0: 8 1: 8 2: 8"), r.describe());
    }

    @Test
    void slicedW2OfFashionMnistsTestSetFromItsIdxFilesIsTheSingleMachineOne() throws Exception {
        EvaluateJob.Report r = EvaluateJob.run(spark, sw2Of("fashion-mnist:test", 30));
        Dataset test = Datasets.open("fashion-mnist:test", null);
        float[] first = new float[30 * 784];
        int[] idx = new int[30];
        Arrays.setAll(idx, i -> i);
        test.fill(idx, first, null);
        assertEquals(PixelSlicedW2.compute(first, 30, 784, "fashion-mnist:test", null), r.sw2());
        assertEquals(10, r.classCounts().size());
        r.classCounts().values().forEach(c -> assertEquals(1000L, c, "Fashion-MNIST's test set has 1000 images per class"));
    }

    @Test
    void bitsPerDimOfTestImagesSplitAcrossTasksIsTheSingleMachineValue() throws Exception {
        Path model = TinyImageModels.write(dir.resolve("uncond28"), 28, 0);
        var settings = new ImageLikelihood.Settings(2, ProbabilityFlowLikelihood.Trace.HUTCHINSON, ProbabilityFlowLikelihood.Grid.SQRT, 7);
        var spec = new EvaluateJob.Spec(null, null, null, 1, ModelRef.of(model), "fashion-mnist:test", 5, settings, "java", 2, 3);
        EvaluateJob.Report r = EvaluateJob.run(spark, spec);
        float[] one;
        try (ImageLikelihood lik = ImageLikelihood.load(model, JavaDevice.get(), 5)) {
            one = lik.logDensity(Datasets.open("fashion-mnist:test", null), 0, 5, settings);
        }
        for (int i = 0; i < 5; i++)
            assertEquals(Float.floatToRawIntBits(one[i]), Float.floatToRawIntBits(r.likelihood().logp()[i]), "image " + i + " log p");
        assertEquals(ImageLikelihood.bitsPerDim(one, 784), r.likelihood().bitsPerDim(), "bits/dim to the last bit");
        assertTrue(r.describe().contains("bits/dim (mean -log p"), r.describe());
    }

    @Test
    void pngsDecodeToThePixelGrid() throws Exception {
        float[] x = {-1f, -0.5f, 0.1234f, 1f};
        Images im = new Images(x, 1, new int[]{1, 2, 2});
        float[] back = ImageSource.decodePng(im.png(0), 4);
        for (int i = 0; i < 4; i++) assertEquals(Math.round((x[i] + 1) * 127.5f) / 127.5f - 1f, back[i], "value " + i);
    }
}
