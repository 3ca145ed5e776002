package dev.diffuse.spark;

import static org.apache.spark.sql.functions.col;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import javax.imageio.ImageIO;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import com.fasterxml.jackson.databind.JsonNode;

import dev.diffuse.models.data.Dataset;

/**
 * The images an evaluation reads, in index order: a data set written by {@code diffuse generate} (Parquet + manifest;
 * its float tensors when it has them, else its PNGs decoded to p / 127.5 - 1) or a data set by spec such as
 * "fashion-mnist:test" (image i = its i-th sample, read on each executor from the same files), as Spark partitions
 * of row-major float blocks.
 */
abstract sealed class ImageSource implements Serializable permits ImageSource.Generated, ImageSource.Spec {
    /** Images of this source: rows [first, first + count) of a block, (count, per) row-major. */
    record Block(long first, int count, float[] values) implements Serializable {}

    /** Values per image. */
    abstract int per();

    /** Images in the source. */
    abstract long size();

    /** "tensor" (exact floats), "png" (8-bit, decoded) or "data set". */
    abstract String values();

    /** Images 0 .. limit - 1 as blocks in partitions (any order of blocks; each image once). */
    abstract JavaRDD<Block> blocks(SparkSession spark, long limit, int partitions);

    /** Images per class label over the whole source (-1: no label). */
    abstract Map<Integer, Long> classCounts(SparkSession spark, int partitions);

    /** Opens {@code data}: a folder with a diffuse manifest, else a data set spec. */
    static ImageSource open(SparkSession spark, String data, String dataDir) throws IOException {
        var conf = spark.sparkContext().hadoopConfiguration();
        boolean folder;
        try { // "fashion-mnist:test" is no path (a scheme without a path): a data set spec
            org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(data);
            folder = p.getFileSystem(conf).isDirectory(p);
        } catch (IOException | IllegalArgumentException e) {
            folder = false;
        }
        if (folder) return new Generated(data, Manifest.read(conf, data), spark.read().parquet(data).count());
        Dataset ds = ExecutorResources.dataset(data, dataDir); // checks the spec on the driver before any task
        return new Spec(data, dataDir, ds.sampleNumel(), ds.size());
    }

    /** A data set written by diffuse generate. */
    static final class Generated extends ImageSource {
        final String dir;
        final boolean tensor;
        final int per;
        final long size;

        Generated(String dir, JsonNode manifest, long rows) {
            this.dir = dir;
            this.tensor = manifest.path("layout").path("with_tensor").asBoolean(false);
            int p = 1;
            for (JsonNode s : manifest.path("model").path("sample_shape")) p *= s.asInt();
            this.per = p;
            this.size = rows;
        }

        @Override int per() { return per; }

        @Override long size() { return size; }

        @Override String values() { return tensor ? "tensor" : "png"; }

        @Override
        JavaRDD<Block> blocks(SparkSession spark, long limit, int partitions) {
            var rows = spark.read().parquet(dir).where(col("index").lt(limit)).select(col("index"), col(tensor ? "tensor" : "png"));
            boolean t = tensor;
            int d = per;
            return rows.toJavaRDD().mapPartitions((Iterator<Row> it) -> {
                List<Block> out = new ArrayList<>();
                while (it.hasNext()) {
                    Row r = it.next();
                    float[] x = t ? floats(r.getList(1), d) : decodePng(r.getAs(1), d);
                    out.add(new Block(r.getLong(0), 1, x));
                }
                return List.of(merge(out, d)).iterator();
            });
        }

        @Override
        Map<Integer, Long> classCounts(SparkSession spark, int partitions) {
            Map<Integer, Long> counts = new TreeMap<>();
            for (Row r : spark.read().parquet(dir).groupBy("class_label").count().collectAsList())
                counts.put(r.isNullAt(0) ? -1 : r.getInt(0), r.getLong(1));
            return counts;
        }
    }

    /** A data set by spec, read on each executor. */
    static final class Spec extends ImageSource {
        final String spec, dataDir;
        final int per;
        final long size;

        Spec(String spec, String dataDir, int per, long size) {
            this.spec = spec;
            this.dataDir = dataDir;
            this.per = per;
            this.size = size;
        }

        @Override int per() { return per; }

        @Override long size() { return size; }

        @Override String values() { return "data set"; }

        @Override
        JavaRDD<Block> blocks(SparkSession spark, long limit, int partitions) {
            String s = spec, dir = dataDir;
            return ranges(spark, Math.min(limit, size), partitions).map(r -> {
                Dataset ds = ExecutorResources.dataset(s, dir);
                int[] idx = new int[r.count()];
                for (int i = 0; i < idx.length; i++) idx[i] = Math.toIntExact(r.first() + i);
                float[] x = new float[r.count() * ds.sampleNumel()];
                ds.fill(idx, x, null);
                return new Block(r.first(), r.count(), x);
            });
        }

        @Override
        Map<Integer, Long> classCounts(SparkSession spark, int partitions) {
            String s = spec, dir = dataDir;
            List<long[]> parts = ranges(spark, size, partitions).map(r -> {
                Dataset ds = ExecutorResources.dataset(s, dir);
                int[] idx = new int[r.count()];
                for (int i = 0; i < idx.length; i++) idx[i] = Math.toIntExact(r.first() + i);
                float[] labels = new float[r.count()];
                ds.fill(idx, new float[r.count() * ds.sampleNumel()], labels);
                long[] c = new long[Math.max(ds.numClasses(), 1)];
                for (float l : labels) c[ds.numClasses() == 0 ? 0 : (int) l]++;
                return c;
            }).collect();
            Dataset ds = ExecutorResources.dataset(spec, dataDir);
            Map<Integer, Long> counts = new TreeMap<>();
            for (long[] c : parts)
                for (int k = 0; k < c.length; k++) counts.merge(ds.numClasses() == 0 ? -1 : k, c[k], Long::sum);
            return counts;
        }
    }

    /** [0, n) as ranges, one partition each. */
    static JavaRDD<IndexRanges.Range> ranges(SparkSession spark, long n, int partitions) {
        List<IndexRanges.Range> r = IndexRanges.split(n, partitions);
        return JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(r, r.size());
    }

    /** One block holding every image of {@code blocks} (any order; an image keeps its own row). */
    static Block merge(List<Block> blocks, int per) {
        int n = 0;
        for (Block b : blocks) n += b.count();
        float[] x = new float[Math.multiplyExact(n, per)];
        int at = 0;
        for (Block b : blocks) {
            System.arraycopy(b.values(), 0, x, at * per, b.count() * per);
            at += b.count();
        }
        return new Block(blocks.isEmpty() ? 0 : blocks.getFirst().first(), n, x);
    }

    static float[] floats(List<Float> list, int per) {
        if (list.size() != per) throw new IllegalStateException("a tensor of " + list.size() + " values where the manifest says " + per);
        float[] x = new float[per];
        for (int i = 0; i < per; i++) x[i] = list.get(i);
        return x;
    }

    /** PNG bytes as values p / 127.5 - 1 in (C, H, W) order (gray: one plane; RGB: three). */
    static float[] decodePng(byte[] png, int per) {
        try {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
            Raster r = img.getRaster();
            int w = img.getWidth(), h = img.getHeight(), bands = r.getNumBands(), c = per / (w * h);
            if (c * w * h != per || (c != 1 && c != 3)) throw new IllegalStateException("a " + w + "x" + h + " PNG where images have " + per + " values");
            float[] x = new float[per];
            for (int k = 0; k < c; k++)
                for (int y = 0; y < h; y++)
                    for (int xx = 0; xx < w; xx++) {
                        int p = c == 1 ? r.getSample(xx, y, 0) : (img.getRGB(xx, y) >> (16 - 8 * k)) & 0xFF;
                        x[k * h * w + y * w + xx] = p / 127.5f - 1f;
                    }
            if (bands < 1) throw new IllegalStateException("a PNG without bands");
            return x;
        } catch (IOException e) {
            throw new UncheckedIOException("an image's PNG cannot be decoded: " + e.getMessage(), e);
        }
    }
}
