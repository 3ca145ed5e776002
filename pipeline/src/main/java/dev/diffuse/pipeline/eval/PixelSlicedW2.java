package dev.diffuse.pipeline.eval;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

import dev.diffuse.models.data.Dataset;
import dev.diffuse.models.data.Datasets;
import dev.diffuse.samplers.metrics.SlicedWasserstein;

/**
 * Pixel-space sliced-W2 of n generated images to n images of a reference data set, beside its floor: the same
 * distance from n real images of the reference's training split to the same reference images, which is what a perfect
 * model scores at this sample size. This is what {@code diffuse sample --reference} reports and what the Spark
 * evaluation job computes over a data set split across executors, with the same choices so the numbers agree:
 * <ul>
 *   <li>generated: images 0..n-1 of the run (in index order);</li>
 *   <li>reference image i: {@code ref[(i * 7919) mod |ref|]} (7919 is prime, so the first |ref| are a permutation);</li>
 *   <li>floor image i: {@code train[(i * 104729) mod |train|]};</li>
 *   <li>{@value SlicedWasserstein#DEFAULT_DIRECTIONS} directions from seed {@value #DIRECTION_SEED}
 *       ({@link SlicedWasserstein#directions}).</li>
 * </ul>
 * <pre>{@code
 * PixelSlicedW2.Result r = PixelSlicedW2.compute(images, 10_000, 784, "fashion-mnist:test", null);
 * System.out.println(r.describe());
 * }</pre>
 */
public final class PixelSlicedW2 {
    /** Images compared by default (the CLI's cap). */
    public static final int DEFAULT_MAX = 10_000;
    /** Seed of the projection directions. */
    public static final long DIRECTION_SEED = 0;

    private PixelSlicedW2() {}

    /**
     * @param n          images on each side
     * @param reference  the reference data set spec, e.g. "fashion-mnist:test"
     * @param floorSet   the data set the floor draws real images from, e.g. "fashion-mnist:train"
     * @param sw2        generated vs reference
     * @param floor      floorSet vs the same reference images
     */
    public record Result(int n, String reference, String floorSet, double sw2, double floor) {
        /** One line, e.g. "sliced-W2 in pixel space to 64 images of fashion-mnist:test: 0.1901 (real ... : 0.1540)". */
        public String describe() {
            return String.format(Locale.ROOT, "sliced-W2 in pixel space to %d images of %s: %.4f (real %s images at the same size: %.4f)",
                    n, reference, sw2, floorSet, floor);
        }
    }

    /** The split the floor takes real images from: a Fashion-MNIST reference's training split, else the reference itself. */
    public static String floorSpec(String reference) {
        String s = reference.trim();
        return s.startsWith("fashion") ? (s.contains(":") ? s.substring(0, s.indexOf(':')) : s) + ":train" : s;
    }

    /** Index into the reference set of reference image i. */
    public static int referenceIndex(long i, int size) { return (int) ((i * 7919L) % size); }

    /** Index into the floor set of floor image i. */
    public static int floorIndex(long i, int size) { return (int) ((i * 104729L) % size); }

    /** Which rows of a data set a side of the comparison takes. */
    public enum Side {
        REFERENCE, FLOOR;

        public int index(long i, int size) { return this == REFERENCE ? referenceIndex(i, size) : floorIndex(i, size); }
    }

    /** Images i = first .. first + count - 1 of a side, (count, per) row-major. */
    public static float[] rows(Dataset data, Side side, long first, int count) {
        int[] idx = new int[count];
        for (int i = 0; i < count; i++) idx[i] = side.index(first + i, data.size());
        float[] x = new float[Math.multiplyExact(count, data.sampleNumel())];
        data.fill(idx, x, null);
        return x;
    }

    /** The projection directions every computation of this metric uses, for images of {@code per} values. */
    public static double[][] directions(int per) {
        return SlicedWasserstein.directions(per, SlicedWasserstein.DEFAULT_DIRECTIONS, DIRECTION_SEED);
    }

    /**
     * SW2 of the first n generated images (row-major in {@code generated}) to n reference images, and the floor.
     *
     * @param dataDir folder of file-based data sets (Fashion-MNIST), null for the default
     */
    public static Result compute(float[] generated, int n, int per, String reference, Path dataDir) throws IOException {
        Dataset ref = Datasets.open(reference, dataDir);
        String floorSpec = floorSpec(reference);
        Dataset floorSet = Datasets.open(floorSpec, dataDir);
        if (ref.sampleNumel() != per || floorSet.sampleNumel() != per)
            throw new IllegalArgumentException("reference " + reference + " has samples of " + ref.sampleNumel() + " values, the images have " + per);
        if ((long) n * per > generated.length)
            throw new IllegalArgumentException("sliced-W2 of " + n + " images needs " + (long) n * per + " values, got " + generated.length);
        float[] x = generated.length == n * per ? generated : java.util.Arrays.copyOf(generated, n * per);
        float[] rv = rows(ref, Side.REFERENCE, 0, n), t = rows(floorSet, Side.FLOOR, 0, n);
        return new Result(n, reference, floorSpec, SlicedWasserstein.sw2(x, rv, per), SlicedWasserstein.sw2(t, rv, per));
    }
}
