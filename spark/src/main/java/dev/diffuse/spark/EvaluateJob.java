package dev.diffuse.spark;

import java.io.IOException;
import java.util.Locale;
import java.util.Map;

import org.apache.spark.sql.SparkSession;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.diffuse.pipeline.eval.ImageLikelihood;
import dev.diffuse.pipeline.eval.PixelSlicedW2;

/**
 * Evaluates a data set on Spark with the metrics the CLI computes on one machine, to the same bits: pixel-space
 * sliced-W2 to a reference set with its floor ({@code diffuse sample --reference}), images per class, and the PF-ODE
 * bits/dim of a test set under a model ({@code diffuse likelihood}).
 * <pre>{@code
 * EvaluateJob.Report r = EvaluateJob.run(spark, new EvaluateJob.Spec("out/fmnist-100k", null, "fashion-mnist:test",
 *         10_000, null, null, 0, ImageLikelihood.Settings.defaults(), "auto", 64, 0));
 * }</pre>
 */
public final class EvaluateJob {
    private EvaluateJob() {}

    /**
     * @param data            a folder written by {@code diffuse generate}, or a data set spec ("fashion-mnist:test")
     * @param dataDir         folder of file-based data sets on every node (Fashion-MNIST's IDX files), null = default
     * @param reference       the reference set of the sliced-W2 ("fashion-mnist:test"); null = no sliced-W2
     * @param sw2Max          images compared (the first by index; the CLI's 10,000)
     * @param likelihoodModel the model whose bits/dim to compute, null = none
     * @param likelihoodData  the data set whose bits/dim to compute ("fashion-mnist:test")
     * @param likelihoodN     images of it, 0 = all
     * @param likelihood      ODE steps, trace, grid, dequantisation seed
     * @param device          device spec on the executors
     * @param maxBatch        images per network pass of the likelihood
     * @param partitions      tasks per stage, 0 = Spark's default parallelism
     */
    public record Spec(String data, String dataDir, String reference, int sw2Max, ModelRef likelihoodModel, String likelihoodData,
                       int likelihoodN, ImageLikelihood.Settings likelihood, String device, int maxBatch, int partitions) {
        public Spec {
            if (data == null && likelihoodModel == null) throw new IllegalArgumentException("evaluate: give --data, --likelihood-model or both");
            if (sw2Max < 1) throw new IllegalArgumentException("--sw2-max must be at least 1, got " + sw2Max);
            if (likelihoodN < 0) throw new IllegalArgumentException("--likelihood-n must be >= 0 (0 = the whole data set), got " + likelihoodN);
            if (maxBatch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + maxBatch);
            if (partitions < 0) throw new IllegalArgumentException("--partitions must be >= 0 (0 = Spark's default), got " + partitions);
        }
    }

    /**
     * @param images      images in the data set (null without --data)
     * @param values      what the sliced-W2 read: "tensor", "png" or "data set"
     * @param sw2         sliced-W2 and floor, or null
     * @param classCounts images per class (-1 = no label), or null
     * @param likelihood  bits/dim, or null
     * @param seconds     wall time
     */
    public record Report(String data, Long images, String values, PixelSlicedW2.Result sw2, Map<Integer, Long> classCounts,
                         LikelihoodJob.Result likelihood, String likelihoodData, ImageLikelihood.Settings likelihoodSettings, double seconds) {
        /** What the CLI prints. */
        public String describe() {
            StringBuilder b = new StringBuilder();
            if (data != null) b.append(String.format(Locale.ROOT, "data:    %s (%,d images, %s values)%n", data, images, values));
            if (sw2 != null) b.append(sw2.describe()).append('\n');
            if (classCounts != null && !(classCounts.size() == 1 && classCounts.containsKey(-1))) {
                b.append("images per class:");
                classCounts.forEach((k, v) -> b.append(String.format(Locale.ROOT, " %d: %,d", k, v)));
                b.append('\n');
            }
            if (likelihood != null)
                b.append(String.format(Locale.ROOT, "%s: %.3f bits/dim (mean -log p %.1f nats over %d images, %s)%n", likelihoodData,
                        likelihood.bitsPerDim(), likelihood.meanNll(), likelihood.n(), likelihoodSettings.describe()));
            return b.toString();
        }

        /** The report as JSON (full precision). */
        public ObjectNode json() {
            ObjectNode o = Manifest.create();
            o.remove("format");
            if (data != null) {
                o.put("data", data);
                o.put("images", images);
                o.put("values", values);
            }
            if (sw2 != null) {
                ObjectNode s = o.putObject("sliced_w2");
                s.put("n", sw2.n());
                s.put("reference", sw2.reference());
                s.put("sw2", sw2.sw2());
                s.put("floor_set", sw2.floorSet());
                s.put("floor", sw2.floor());
            }
            if (classCounts != null) {
                ObjectNode c = o.putObject("class_counts");
                classCounts.forEach((k, v) -> c.put(k < 0 ? "none" : Integer.toString(k), v));
            }
            if (likelihood != null) {
                ObjectNode l = o.putObject("likelihood");
                l.put("data", likelihoodData);
                l.put("n", likelihood.n());
                l.put("bits_per_dim", likelihood.bitsPerDim());
                l.put("mean_nll_nats", likelihood.meanNll());
                l.put("settings", likelihoodSettings.describe());
            }
            o.put("seconds", seconds);
            return o;
        }
    }

    public static Report run(SparkSession spark, Spec s) throws IOException {
        long t0 = System.nanoTime();
        int parts = s.partitions() > 0 ? s.partitions() : spark.sparkContext().defaultParallelism();
        ImageSource source = null;
        PixelSlicedW2.Result sw2 = null;
        Map<Integer, Long> counts = null;
        if (s.data() != null) {
            source = ImageSource.open(spark, s.data(), s.dataDir());
            counts = source.classCounts(spark, parts);
            if (s.reference() != null) sw2 = SlicedW2Job.run(spark, source, s.reference(), s.dataDir(), s.sw2Max(), parts);
        }
        LikelihoodJob.Result lik = null;
        if (s.likelihoodModel() != null)
            lik = LikelihoodJob.run(spark, s.likelihoodModel(), s.likelihoodData(), s.dataDir(), s.likelihoodN(), s.likelihood(), s.device(), s.maxBatch(), parts);
        return new Report(s.data(), source == null ? null : source.size(), source == null ? null : source.values(), sw2, counts, lik,
                s.likelihoodData(), s.likelihood(), (System.nanoTime() - t0) / 1e9);
    }
}
