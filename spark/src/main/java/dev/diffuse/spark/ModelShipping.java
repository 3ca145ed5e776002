package dev.diffuse.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

import org.apache.spark.SparkFiles;
import org.apache.spark.sql.SparkSession;

/**
 * Shipping a model with the job instead of reading it from shared storage: the driver adds each model file to the job
 * ({@code SparkContext.addFile}, served by the driver and fetched by each executor once, before its first task) under
 * a name prefixed with the model's hash, and an executor gathers the files with its prefix into a folder of their own
 * names. Files, not a folder, because Spark adds local folders only in local mode. For a large model or many
 * executors, shared storage (or a model baked into the node image) avoids sending it from the driver to every executor.
 */
public final class ModelShipping {
    private ModelShipping() {}

    /** Adds the model's files to the job; the returned reference makes executors read the shipped copy. */
    public static ModelRef ship(SparkSession spark, ModelRef model) throws IOException {
        String prefix = "diffuse-" + model.sha256().substring(0, 16) + "-";
        Path tmp = Files.createTempDirectory("diffuse-ship");
        tmp.toFile().deleteOnExit();
        for (Path f : ModelRef.modelFiles(Path.of(model.folder()))) {
            Path named = tmp.resolve(prefix + f.getFileName());
            Files.copy(f, named);
            named.toFile().deleteOnExit();
            spark.sparkContext().addFile(named.toUri().toString());
        }
        return model.shipped(prefix);
    }

    /** The shipped model on this executor: a folder of the files fetched under {@code prefix}, made once per JVM. */
    static synchronized Path unpack(String prefix) {
        Path root = Path.of(SparkFiles.getRootDirectory()), target = root.resolve(prefix + "model");
        if (Files.isDirectory(target)) return target;
        try {
            Path tmp = Files.createTempDirectory(root, prefix + "unpacking");
            try (Stream<Path> s = Files.list(root)) {
                for (Path f : s.filter(Files::isRegularFile).filter(p -> p.getFileName().toString().startsWith(prefix)).toList())
                    Files.copy(f, tmp.resolve(f.getFileName().toString().substring(prefix.length())));
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot gather the shipped model files " + prefix + "* in " + root + ": " + e.getMessage(), e);
        }
    }
}
