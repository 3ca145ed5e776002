package dev.diffuse.spark;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import dev.diffuse.pipeline.DiffusionPipeline;
import dev.diffuse.pipeline.Images;
import dev.diffuse.pipeline.SampleRequest;
import dev.diffuse.runtime.Device;

/**
 * A task of the generation job: the images of its index ranges, a chunk at a time, as rows. Chunk [a, b) is the
 * request {@code run.firstIndex(a).n(b - a)} on this JVM's shared pipeline, so image i has the noise key and class it
 * has in the whole run, whichever task, executor, thread or batch computes it. Rows are produced lazily: a task holds
 * one chunk of images at a time however large its range.
 */
final class RangeSampler implements FlatMapFunction<Iterator<IndexRanges.Range>, Row> {
    private final GenerateSpec spec;
    private final TaskProbe probe;

    RangeSampler(GenerateSpec spec, TaskProbe probe) {
        this.spec = spec;
        this.probe = probe;
    }

    /** The rows' columns: the image's run (seed, index, class, sampler, steps), where it was computed, PNG, finiteness, floats. */
    static StructType schema(boolean withTensor) {
        List<StructField> f = new ArrayList<>(List.of(
                DataTypes.createStructField("seed", DataTypes.LongType, false),
                DataTypes.createStructField("index", DataTypes.LongType, false),
                DataTypes.createStructField("class_label", DataTypes.IntegerType, true),
                DataTypes.createStructField("sampler", DataTypes.StringType, false),
                DataTypes.createStructField("steps", DataTypes.IntegerType, false),
                DataTypes.createStructField("device", DataTypes.StringType, false),
                DataTypes.createStructField("finite", DataTypes.BooleanType, false),
                DataTypes.createStructField("png", DataTypes.BinaryType, true)));
        if (withTensor) f.add(DataTypes.createStructField("tensor", DataTypes.createArrayType(DataTypes.FloatType, false), false));
        return DataTypes.createStructType(f);
    }

    @Override
    public Iterator<Row> call(Iterator<IndexRanges.Range> ranges) {
        List<IndexRanges.Range> chunks = new ArrayList<>();
        ranges.forEachRemaining(r -> chunks.addAll(IndexRanges.chunks(r, spec.chunk())));
        if (chunks.isEmpty()) return java.util.Collections.emptyIterator();
        Device device = ExecutorResources.device(spec.device());
        DiffusionPipeline pipeline = ExecutorResources.pipeline(spec.model(), device, spec.maxBatch());
        return new Iterator<>() {
            private int next; // next chunk
            private Images images;
            private int[] classes;
            private long first;
            private int i;

            @Override
            public boolean hasNext() { return (images != null && i < images.count()) || next < chunks.size(); }

            @Override
            public Row next() {
                if (!hasNext()) throw new NoSuchElementException();
                if (images == null || i == images.count()) {
                    IndexRanges.Range c = chunks.get(next++);
                    SampleRequest r = spec.request().toBuilder().firstIndex(c.first()).n(c.count()).build();
                    images = pipeline.sample(r).images();
                    classes = pipeline.classesOf(r);
                    first = c.first();
                    i = 0;
                }
                long index = first + i;
                probe.beforeImage(index);
                Row row = row(device, images, i, index, classes[i]);
                i++;
                return row;
            }
        };
    }

    private Row row(Device device, Images images, int i, long index, int label) {
        SampleRequest r = spec.request();
        float[] x = images.image(i);
        boolean finite = true;
        for (float v : x) finite &= Float.isFinite(v);
        Object[] v = new Object[spec.withTensor() ? 9 : 8];
        v[0] = r.seed();
        v[1] = index;
        v[2] = label >= 0 ? label : null;
        v[3] = r.sampler();
        v[4] = r.steps();
        v[5] = device.id();
        v[6] = finite;
        v[7] = images.isImage() ? images.png(i) : null;
        if (spec.withTensor()) v[8] = x;
        return RowFactory.create(v);
    }
}
