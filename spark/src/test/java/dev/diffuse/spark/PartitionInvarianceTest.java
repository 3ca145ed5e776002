package dev.diffuse.spark;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.List;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.diffuse.pipeline.Images;
import dev.diffuse.pipeline.SampleRequest;

/**
 * The same (model, seed, n, sampler settings) gives the same bits for every image whatever the number of partitions,
 * task threads or batch size, and equal to the run on one machine outside Spark: local[1] with one partition and
 * batches of 5 vs local[2] with 7 partitions, chunks of 2 and batches of 3 (tasks on two threads share one pipeline,
 * so their images are batched together too). The run uses a stochastic sampler (DDIM with eta = 1 draws noise at
 * every step), classifier-free guidance and cycling class labels, so any noise keyed by batch row, task or chunk
 * instead of image index, or any label taken from the wrong index, changes bits.
 */
class PartitionInvarianceTest {
    @TempDir
    static Path dir;
    static Path model;
    static final SampleRequest RUN = SampleRequest.builder().n(17).seed(2024).sampler("ddim").eta(1).steps(3).guidance(2).build();
    static Images alone;

    @BeforeAll
    static void reference() throws Exception {
        model = TinyImageModels.write(dir.resolve("model"), 8, 4); // classes 0..2, 3 = "no class"
        alone = SparkTests.alone(model, RUN, 8);
    }

    private static List<Row> generate(String master, int partitions, int maxBatch, int chunk, String out, int[] loads) throws Exception {
        SparkSession spark = SparkTests.session(master, "PartitionInvarianceTest " + master);
        try {
            int before = ExecutorResources.modelLoads();
            var spec = new GenerateSpec(ModelRef.of(model), RUN, "java", maxBatch, partitions, chunk, true);
            var s = GenerateJob.run(spark, spec, dir.resolve(out).toString(), false, TaskProbe.NONE);
            loads[0] = ExecutorResources.modelLoads() - before;
            assertEquals(partitions, s.partitions());
            assertEquals(List.of("java"), s.devices());
            return SparkTests.rows(spark, dir.resolve(out));
        } finally {
            spark.stop();
        }
    }

    @Test
    void everyImageHasTheSameBitsAtAnyPartitioningThreadCountAndBatch() throws Exception {
        int[] loads = new int[1];
        List<Row> one = generate("local[1]", 1, 5, 5, "one", loads);
        SparkTests.assertSameImages(alone, RUN, one, "local[1], 1 partition, batches of 5");
        assertEquals(1, loads[0], "one pipeline load for the executor");
        List<Row> seven = generate("local[2]", 7, 3, 2, "seven", loads);
        SparkTests.assertSameImages(alone, RUN, seven, "local[2], 7 partitions, chunks of 2, batches of 3");
        assertEquals(1, loads[0], "7 tasks on one executor JVM load the pipeline once");
        for (int i = 0; i < seven.size(); i++)
            assertEquals(i % 3, seven.get(i).getInt(seven.get(i).fieldIndex("class_label")), "image " + i + " has class i mod 3");
    }
}
