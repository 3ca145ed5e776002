package dev.diffuse.spark.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.apache.spark.sql.SparkSession;

import dev.diffuse.pipeline.eval.ImageLikelihood;
import dev.diffuse.pipeline.eval.PixelSlicedW2;
import dev.diffuse.samplers.likelihood.ProbabilityFlowLikelihood;
import dev.diffuse.spark.EvaluateJob;
import dev.diffuse.spark.ModelRef;
import dev.diffuse.spark.ModelShipping;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code diffuse evaluate}: the CLI's metrics over a data set on Spark, equal to the single-machine values. */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Evaluate a data set on Spark: pixel-space sliced-W2 to a reference set with its floor (as 'diffuse sample --reference'), "
                + "images per class, and the PF-ODE bits/dim of a test set under a model (as 'diffuse likelihood'), split across executors; "
                + "the numbers equal the single-machine ones to the last bit."},
        footer = {"", "Examples:", "  diffuse evaluate --data data/fmnist-10k --reference fashion-mnist:test --master local[2]",
                "  diffuse evaluate --likelihood-model pretrained/fashion-mnist-small --likelihood-data fashion-mnist:test --likelihood-steps 100"})
public final class EvaluateCommand implements Callable<Integer> {
    @Option(names = "--data", description = "a folder written by 'diffuse generate', or a data set (fashion-mnist:test, png:DIR)") String data;
    @Option(names = "--data-dir", description = "folder of the Fashion-MNIST IDX files on every node (default /usr/share/datasets/fashion-mnist)") String dataDir;
    @Option(names = "--reference", defaultValue = "fashion-mnist:test", description = "reference set of the sliced-W2, 'none' to skip (default ${DEFAULT-VALUE})") String reference;
    @Option(names = "--sw2-max", description = "images the sliced-W2 compares, the first by index (default 10000, the CLI's)") Integer sw2Max;
    @Option(names = "--likelihood-model", description = "an epsilon model folder: also compute bits/dim of --likelihood-data") Path likelihoodModel;
    @Option(names = "--likelihood-data", defaultValue = "fashion-mnist:test", description = "data set of the bits/dim (default ${DEFAULT-VALUE})") String likelihoodData;
    @Option(names = "--likelihood-n", defaultValue = "0", description = "images of it (default 0: all)") int likelihoodN;
    @Option(names = "--likelihood-steps", defaultValue = "200", description = "Heun steps of the ODE (default ${DEFAULT-VALUE})") int likelihoodSteps;
    @Option(names = "--trace", defaultValue = "hutchinson", description = "hutchinson | exact (default ${DEFAULT-VALUE})") String trace;
    @Option(names = "--grid", defaultValue = "sqrt", description = "sqrt | uniform (default ${DEFAULT-VALUE})") String grid;
    @Option(names = "--seed", defaultValue = "0", description = "seed of the dequantisation noise (default ${DEFAULT-VALUE})") long seed;
    @Option(names = "--master", description = "local[N] to run without a cluster; leave out under spark-submit (default local[*])") String master;
    @Option(names = "--partitions", defaultValue = "0", description = "tasks per stage (default: Spark's default parallelism)") int partitions;
    @Option(names = "--batch", defaultValue = "64", description = "images per network pass of the likelihood (default ${DEFAULT-VALUE})") int batch;
    @Option(names = "--device", defaultValue = "auto", description = "device on the executors (default ${DEFAULT-VALUE})") String device;
    @Option(names = "--ship-model", description = "send the likelihood model's files with the job") boolean shipModel;
    @Option(names = "--out", description = "also write the report as JSON here") Path out;

    @Override
    public Integer call() throws Exception {
        if (data == null && likelihoodModel == null) throw new IllegalArgumentException("give --data (sliced-W2, class counts), --likelihood-model (bits/dim) or both");
        String tr = trace.toUpperCase(Locale.ROOT), gr = grid.toUpperCase(Locale.ROOT);
        if (!tr.equals("HUTCHINSON") && !tr.equals("EXACT")) throw new IllegalArgumentException("--trace must be hutchinson or exact, got '" + trace + "'");
        if (!gr.equals("SQRT") && !gr.equals("UNIFORM")) throw new IllegalArgumentException("--grid must be sqrt or uniform, got '" + grid + "'");
        var settings = new ImageLikelihood.Settings(likelihoodSteps, ProbabilityFlowLikelihood.Trace.valueOf(tr), ProbabilityFlowLikelihood.Grid.valueOf(gr), seed);
        ModelRef lik = likelihoodModel != null ? ModelRef.of(likelihoodModel) : null;
        SparkSession spark = SparkCommands.session(master, "diffuse evaluate");
        try {
            if (lik != null && shipModel) lik = ModelShipping.ship(spark, lik);
            var spec = new EvaluateJob.Spec(data, dataDir, reference.equals("none") ? null : reference, sw2Max != null ? sw2Max : PixelSlicedW2.DEFAULT_MAX,
                    lik, likelihoodData, likelihoodN, settings, device, batch, partitions);
            EvaluateJob.Report r = EvaluateJob.run(spark, spec);
            System.out.print(r.describe());
            System.out.printf(Locale.ROOT, "evaluated in %.1f s on %s%n", r.seconds(), spark.sparkContext().master());
            if (out != null) {
                Path abs = out.toAbsolutePath(), tmp = abs.resolveSibling("." + abs.getFileName() + ".tmp");
                Files.writeString(tmp, r.json().toPrettyString() + "\n");
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                System.out.println("wrote " + out);
            }
            return 0;
        } finally {
            if (master != null || System.getProperty("spark.master") == null) spark.stop();
        }
    }
}
