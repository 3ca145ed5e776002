package dev.diffuse.spark.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.apache.spark.sql.SparkSession;

import dev.diffuse.pipeline.SampleRequest;
import dev.diffuse.spark.GenerateJob;
import dev.diffuse.spark.GenerateSpec;
import dev.diffuse.spark.ModelRef;
import dev.diffuse.spark.ModelShipping;
import dev.diffuse.spark.TaskProbe;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code diffuse generate}: n samples of a model as a Parquet data set with a manifest, on Spark. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Generate --n samples of a model on Spark as a Parquet data set (seed, index, class_label, sampler, steps, device, "
                + "finite, png, and the floats with --tensor) with _manifest.json (model hash, request, Diffuse version).",
                "Image i is the same bits at any --master, --partitions or --batch: its noise is keyed by (seed, i)."},
        footer = {"", "Examples:", "  diffuse generate --model pretrained/fashion-mnist-small --n 10000 --seed 1 --out data/fmnist-10k --master local[2]",
                "  diffuse evaluate --data data/fmnist-10k --reference fashion-mnist:test"})
public final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "a model folder (diffusers folder, checkpoint or run folder)") Path model;
    @Option(names = "--n", required = true, description = "images to generate") int n;
    @Option(names = "--out", required = true, description = "output folder (local path, hdfs://, s3a://, ...)") String out;
    @Option(names = "--seed", defaultValue = "0", description = "seed of the run (default ${DEFAULT-VALUE})") long seed;
    @Option(names = "--sampler", description = "sampler (default: the model's, e.g. ddim)") String sampler;
    @Option(names = "--steps", description = "sampler steps (default: the model's, e.g. 25)") Integer steps;
    @Option(names = "--eta", description = "DDIM's eta (default 0)") Double eta;
    @Option(names = "--class", paramLabel = "K", description = "class-conditional models: the class of every image (default: image i gets class i mod classes)") Integer classLabel;
    @Option(names = "--guidance", paramLabel = "S", description = "classifier-free guidance scale (1 = none)") Double guidance;
    @Option(names = "--no-clip", description = "do not clip the predicted x0 in ddpm/ddim") boolean noClip;
    @Option(names = "--tensor", description = "also store each image's floats (the exact values; PNG holds 8 bits)") boolean tensor;
    @Option(names = "--master", description = "local[N] (N task threads) to run without a cluster; leave out under spark-submit (default local[*])") String master;
    @Option(names = "--partitions", defaultValue = "0", description = "tasks the index range is cut into (default: Spark's default parallelism)") int partitions;
    @Option(names = "--batch", defaultValue = "64", description = "images per batched forward on an executor (default ${DEFAULT-VALUE})") int batch;
    @Option(names = "--chunk", description = "images per pipeline request inside a task (default 4 x --batch)") Integer chunk;
    @Option(names = "--device", defaultValue = "auto", description = "device on the executors: auto (the GPU Spark assigned, else an OpenCL GPU, else Java), java, cl:P:I") String device;
    @Option(names = "--ship-model", description = "send the model's files with the job instead of reading --model's path on every node") boolean shipModel;
    @Option(names = "--overwrite", description = "replace --out if it exists") boolean overwrite;

    @Override
    public Integer call() throws Exception {
        SampleRequest.Builder b = SampleRequest.builder().n(n).seed(seed);
        if (sampler != null) b.sampler(sampler);
        if (steps != null) b.steps(steps);
        if (eta != null) b.eta(eta);
        if (classLabel != null) b.classLabel(classLabel);
        if (guidance != null) b.guidance(guidance);
        if (noClip) b.clip(false);
        SampleRequest request = b.build();
        ModelRef ref = ModelRef.of(model);
        long t0 = System.nanoTime();
        SparkSession spark = SparkCommands.session(master, "diffuse generate");
        try {
            double startup = (System.nanoTime() - t0) / 1e9;
            if (shipModel) ref = ModelShipping.ship(spark, ref);
            var spec = new GenerateSpec(ref, request, device, batch, partitions, chunk != null ? chunk : 4 * batch, tensor);
            GenerateJob.Summary s = GenerateJob.run(spark, spec, out, overwrite, TaskProbe.NONE);
            SampleRequest r = s.request();
            System.out.printf(Locale.ROOT, "model:   %s (sha256 %s)%n", ref.folder(), ref.sha256().substring(0, 16));
            System.out.printf(Locale.ROOT, "run:     n = %,d, seed %d, %s %d steps%s%s%n", r.n(), r.seed(), r.sampler(), r.steps(),
                    r.classLabel() != null ? ", class " + r.classLabel() : "", r.guidance() != null ? ", guidance " + r.guidance() : "");
            System.out.printf(Locale.ROOT, "spark:   %s, %d partitions, devices %s (session start %.1f s)%n", spark.sparkContext().master(),
                    s.partitions(), String.join(", ", s.devices()), startup);
            System.out.printf(Locale.ROOT, "generated: %,d images in %.3f s (%.2f images/s; sampling and writing %.3f s, checking %.3f s)%s%n",
                    r.n(), s.seconds(), r.n() / s.seconds(), s.writeSeconds(), s.seconds() - s.writeSeconds(),
                    s.nonFinite() > 0 ? String.format(Locale.ROOT, "; %,d with non-finite values (finite = false)", s.nonFinite()) : "");
            System.out.println("wrote " + out + " (Parquet) and " + out + "/_manifest.json");
            return 0;
        } finally {
            if (master != null || System.getProperty("spark.master") == null) spark.stop();
        }
    }
}
