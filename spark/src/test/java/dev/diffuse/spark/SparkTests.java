package dev.diffuse.spark;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import dev.diffuse.pipeline.DiffusionPipeline;
import dev.diffuse.pipeline.Images;
import dev.diffuse.pipeline.PipelineOptions;
import dev.diffuse.pipeline.SampleRequest;
import dev.diffuse.runtime.JavaDevice;

/** Helpers shared by the Spark tests: the single-machine reference run and reading a written data set back. */
final class SparkTests {
    private SparkTests() {}

    /** The whole request on one pipeline, outside Spark: what every partitioning must reproduce. */
    static Images alone(Path model, SampleRequest run, int maxBatch) throws Exception {
        try (DiffusionPipeline p = DiffusionPipeline.load(model, JavaDevice.get(),
                PipelineOptions.builder().maxBatch(maxBatch).batchWindow(Duration.ZERO).build())) {
            return p.sample(run).images();
        }
    }

    /** The data set's rows in index order. */
    static List<Row> rows(SparkSession spark, Path out) {
        return spark.read().parquet(out.toString()).sort("index").collectAsList();
    }

    static float[] tensor(Row r) {
        List<Float> l = r.getList(r.fieldIndex("tensor"));
        float[] x = new float[l.size()];
        for (int i = 0; i < x.length; i++) x[i] = l.get(i);
        return x;
    }

    /** Row i holds image i of the reference run, bit for bit (floats and PNG), with the run's seed, sampler and steps. */
    static void assertSameImages(Images expected, SampleRequest run, List<Row> rows, String what) {
        assertEquals(expected.count(), rows.size(), what + ": rows");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            assertEquals(i, r.getLong(r.fieldIndex("index")), what + ": indices 0..n-1 once each");
            assertEquals(run.seed(), r.getLong(r.fieldIndex("seed")));
            assertEquals(run.sampler(), r.getString(r.fieldIndex("sampler")));
            assertEquals(run.steps(), r.getInt(r.fieldIndex("steps")));
            float[] want = expected.image(i), got = tensor(r);
            for (int j = 0; j < want.length; j++)
                if (Float.floatToRawIntBits(want[j]) != Float.floatToRawIntBits(got[j]))
                    fail(what + ": image " + i + " value " + j + " is " + got[j] + ", alone " + want[j]);
            assertArrayEquals(expected.png(i), (byte[]) r.getAs("png"), what + ": image " + i + " PNG");
        }
    }

    static SparkSession session(String master, String name) { return SparkSessions.local(master, name); }
}
