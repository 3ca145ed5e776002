package dev.diffuse.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

import dev.diffuse.models.data.Dataset;
import dev.diffuse.pipeline.eval.PixelSlicedW2;
import dev.diffuse.samplers.metrics.SlicedWasserstein;
import scala.Tuple2;

/**
 * {@link PixelSlicedW2} on Spark, with the same bits as on one machine. SW2^2 = mean over directions l of
 * W2^2(theta_l . A, theta_l . B), and W2^2 in 1-D pairs sorted values. Each image's projection onto theta_l depends on
 * that image only ({@link SlicedWasserstein#project}), so executors project their blocks (every direction) and sort
 * each direction's values; a shuffle gathers direction l's values of each side into one task, which sorts them again
 * (the sorted multiset is the same whatever the blocks were) and computes W2^2 with the same loop as on one machine
 * ({@link SlicedWasserstein#w2squared}); the driver adds the directions in order 0..L-1. Every floating-point
 * operation is the one-machine computation's, in its order, so the result is equal to the last bit.
 */
final class SlicedW2Job {
    private SlicedW2Job() {}

    static final int GENERATED = 0, REFERENCE = 1, FLOOR = 2;

    /** Sorted projections of one block of one side onto one direction. */
    record Part(int side, double[] sorted) implements Serializable {}

    /**
     * SW2 of images 0..m-1 of {@code source} to m reference images, and the floor (m real images of the reference's
     * training split to the same reference images), m = min(limit, source size).
     */
    static PixelSlicedW2.Result run(SparkSession spark, ImageSource source, String reference, String dataDir, int limit, int partitions) {
        int m = (int) Math.min(limit, source.size()), per = source.per();
        String floorSpec = PixelSlicedW2.floorSpec(reference);
        Dataset ref = ExecutorResources.dataset(reference, dataDir), floor = ExecutorResources.dataset(floorSpec, dataDir);
        if (ref.sampleNumel() != per || floor.sampleNumel() != per)
            throw new IllegalArgumentException("reference " + reference + " has samples of " + ref.sampleNumel() + " values, the images have " + per);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        double[][] theta = PixelSlicedW2.directions(per);
        Broadcast<double[][]> directions = jsc.broadcast(theta);
        int count = theta.length;

        JavaRDD<Tuple2<Integer, Part>> parts = project(source.blocks(spark, m, partitions), GENERATED, directions, per)
                .union(project(sideBlocks(spark, reference, dataDir, PixelSlicedW2.Side.REFERENCE, m, partitions), REFERENCE, directions, per))
                .union(project(sideBlocks(spark, floorSpec, dataDir, PixelSlicedW2.Side.FLOOR, m, partitions), FLOOR, directions, per));
        List<double[]> w2 = JavaPairRDD.fromJavaRDD(parts).groupByKey(Math.max(1, partitions)).map(g -> {
            double[][] side = new double[3][];
            List<List<double[]>> bySide = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
            for (Part p : g._2()) bySide.get(p.side()).add(p.sorted());
            for (int s = 0; s < 3; s++) side[s] = concatSorted(bySide.get(s));
            return new double[]{g._1(), SlicedWasserstein.w2squared(side[GENERATED], side[REFERENCE]), SlicedWasserstein.w2squared(side[FLOOR], side[REFERENCE])};
        }).collect();
        directions.destroy();
        if (w2.size() != count) throw new IllegalStateException("sliced-W2: " + w2.size() + " directions came back of " + count);
        List<double[]> ordered = new ArrayList<>(w2);
        ordered.sort(Comparator.comparingDouble(a -> a[0]));
        double gen = 0, real = 0;
        for (double[] d : ordered) { // fixed order, as SlicedWasserstein.sw2 adds them
            gen += d[1];
            real += d[2];
        }
        return new PixelSlicedW2.Result(m, reference, floorSpec, Math.sqrt(gen / count), Math.sqrt(real / count));
    }

    /** Images 0..m-1 of one side of the comparison, read from the data set on each executor. */
    private static JavaRDD<ImageSource.Block> sideBlocks(SparkSession spark, String spec, String dataDir, PixelSlicedW2.Side side, int m, int partitions) {
        return ImageSource.ranges(spark, m, partitions).map(r -> new ImageSource.Block(r.first(), r.count(),
                PixelSlicedW2.rows(ExecutorResources.dataset(spec, dataDir), side, r.first(), r.count())));
    }

    /** Per block and direction: (l, the block's sorted projections onto theta_l). */
    private static JavaRDD<Tuple2<Integer, Part>> project(JavaRDD<ImageSource.Block> blocks, int side, Broadcast<double[][]> directions, int per) {
        return blocks.filter(b -> b.count() > 0).flatMap(b -> {
            double[][] theta = directions.value();
            List<Tuple2<Integer, Part>> out = new ArrayList<>(theta.length);
            for (int l = 0; l < theta.length; l++) out.add(new Tuple2<>(l, new Part(side, SlicedWasserstein.project(b.values(), b.count(), per, theta[l]))));
            return out.iterator();
        });
    }

    /** All values of sorted arrays, sorted. */
    private static double[] concatSorted(List<double[]> parts) {
        int n = 0;
        for (double[] p : parts) n += p.length;
        double[] all = new double[n];
        int at = 0;
        for (double[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        Arrays.sort(all);
        return all;
    }
}
