package dev.diffuse.spark;

import static org.apache.spark.sql.functions.*;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.diffuse.pipeline.DiffusionPipeline;
import dev.diffuse.pipeline.ModelInfo;
import dev.diffuse.pipeline.ObjectiveSamplers;
import dev.diffuse.pipeline.PipelineOptions;
import dev.diffuse.pipeline.SampleRequest;
import dev.diffuse.runtime.JavaDevice;

/**
 * Generates n images of a model on Spark and writes them as a Parquet data set with a manifest. The run [0, n) is cut
 * into contiguous index ranges, one per task; a task draws its range in chunks through its executor's shared pipeline
 * ({@link ExecutorResources}), each chunk a range request of the one logical run, so every image's bits depend on
 * (model, seed, n-independent settings, index) only: the same data set at any number of partitions, executors,
 * threads or batch sizes. Spark's file commit protocol keeps only one successful attempt per task, and the job checks
 * the written data (exactly the indices 0..n-1, each once) before it writes the manifest.
 * <pre>{@code
 * GenerateJob.Summary s = GenerateJob.run(spark, spec, "hdfs:///data/fmnist-100k", false, TaskProbe.NONE);
 * }</pre>
 */
public final class GenerateJob {
    private GenerateJob() {}

    /**
     * What a finished job did.
     *
     * @param request    the run with every default resolved (sampler, steps, seed)
     * @param partitions tasks it ran as
     * @param devices    device ids the images were computed on
     * @param seconds      wall time from the first task to the checked data set
     * @param writeSeconds of which generating and writing the Parquet files
     * @param manifest     the manifest written
     */
    public record Summary(SampleRequest request, int partitions, List<String> devices, long nonFinite, double seconds, double writeSeconds,
                          ObjectNode manifest) {}

    /**
     * Runs the job: resolves the request against the model on the driver (so a bad request fails before any task
     * starts), generates, writes Parquet to {@code out}, checks it and writes the manifest.
     *
     * @param overwrite replace an existing {@code out}; otherwise an existing one is an error
     * @param probe     called before every image on the executors (fault-injection tests); {@link TaskProbe#NONE}
     */
    public static Summary run(SparkSession spark, GenerateSpec spec, String out, boolean overwrite, TaskProbe probe) throws IOException {
        if (out.matches(".*[*?\\[\\]{}\\\\].*"))
            throw new IllegalArgumentException("--out " + out + ": Spark reads paths with * ? [ ] { } \\ as glob patterns, so the data set "
                    + "could not be read back; choose a name without them");
        org.apache.hadoop.fs.Path target = new org.apache.hadoop.fs.Path(out);
        if (!overwrite && target.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(target))
            throw new IllegalArgumentException(out + " already exists; choose another output folder or replace it (--overwrite)");
        SampleRequest run;
        ModelInfo info;
        try (DiffusionPipeline p = DiffusionPipeline.load(Path.of(spec.model().folder()), JavaDevice.get(), PipelineOptions.builder().maxBatch(1).build())) {
            run = p.resolve(spec.request());
            p.resolve(run.toBuilder().firstIndex(1).n(1).build()); // what every task asks: a range of the run
            info = p.info();
        }
        GenerateSpec resolved = new GenerateSpec(spec.model(), run, spec.device(), spec.maxBatch(), spec.partitions(), spec.chunk(),
                spec.withTensor() || !isImage(info.sampleShape()));
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int parts = spec.partitions() > 0 ? spec.partitions() : jsc.defaultParallelism();
        List<IndexRanges.Range> ranges = IndexRanges.split(run.n(), parts);
        long t0 = System.nanoTime();
        JavaRDD<Row> rows = jsc.parallelize(ranges, ranges.size()).mapPartitions(new RangeSampler(resolved, probe));
        spark.createDataFrame(rows, RangeSampler.schema(resolved.withTensor()))
                .write().mode(overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists).parquet(out);
        double writeSeconds = (System.nanoTime() - t0) / 1e9;

        Dataset<Row> written = spark.read().parquet(out);
        Row c = written.agg(count(lit(1)), countDistinct(col("index")), min(col("index")), max(col("index")),
                sum(when(col("finite"), 0).otherwise(1))).first();
        long rowsWritten = c.getLong(0), distinct = c.getLong(1);
        if (rowsWritten != run.n() || distinct != run.n() || c.getLong(2) != 0 || c.getLong(3) != run.n() - 1)
            throw new IllegalStateException(String.format("%s holds %d rows with %d distinct indices in %s..%s, expected indices 0..%d once each; "
                    + "no manifest was written", out, rowsWritten, distinct, c.get(2), c.get(3), run.n() - 1));
        long nonFinite = c.getLong(4);
        List<String> devices = written.select("device").distinct().sort("device").as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
        double seconds = (System.nanoTime() - t0) / 1e9;

        ObjectNode m = manifest(resolved, info, ranges.size(), devices, nonFinite, seconds, writeSeconds, spark);
        Manifest.write(spark.sparkContext().hadoopConfiguration(), out, m);
        return new Summary(run, ranges.size(), devices, nonFinite, seconds, writeSeconds, m);
    }

    static boolean isImage(int[] shape) { return shape.length == 3 && (shape[0] == 1 || shape[0] == 3); }

    private static ObjectNode manifest(GenerateSpec s, ModelInfo info, int partitions, List<String> devices, long nonFinite, double seconds,
                                       double writeSeconds, SparkSession spark) {
        ObjectNode m = Manifest.create();
        m.put("created", Instant.now().toString());
        ObjectNode model = m.putObject("model");
        model.put("folder", s.model().folder());
        model.put("sha256", s.model().sha256());
        model.put("class", info.modelClass());
        model.put("objective", ObjectiveSamplers.describe(info.objective()));
        ArrayNode shape = model.putArray("sample_shape");
        Arrays.stream(info.sampleShape()).forEach(shape::add);
        model.put("classes", info.numClasses());
        model.put("null_class", info.nullClass());
        model.put("parameters", info.parameters());
        SampleRequest r = s.request();
        ObjectNode req = m.putObject("request");
        req.put("n", r.n());
        req.put("seed", r.seed());
        req.put("sampler", r.sampler());
        req.put("steps", r.steps());
        req.put("eta", r.eta());
        req.put("clip", r.clip());
        if (r.guidance() != null) req.put("guidance", r.guidance());
        else req.putNull("guidance");
        if (r.classLabel() != null) req.put("class_label", r.classLabel());
        else req.putNull("class_label");
        ObjectNode layout = m.putObject("layout");
        layout.put("partitions", partitions);
        layout.put("chunk", s.chunk());
        layout.put("max_batch", s.maxBatch());
        layout.put("with_tensor", s.withTensor());
        ArrayNode cols = layout.putArray("columns");
        for (String f : RangeSampler.schema(s.withTensor()).fieldNames()) cols.add(f);
        ArrayNode dev = m.putArray("devices");
        devices.forEach(dev::add);
        m.put("nonfinite_images", nonFinite);
        ObjectNode sp = m.putObject("spark");
        sp.put("version", spark.version());
        sp.put("master", spark.sparkContext().master());
        m.put("seconds", seconds);
        m.put("write_seconds", writeSeconds);
        return m;
    }
}
