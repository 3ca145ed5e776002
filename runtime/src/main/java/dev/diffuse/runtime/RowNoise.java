package dev.diffuse.runtime;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A noise key per row (see {@link Noise}): element j of row r of a (rows, D) tensor gets normal {@code first[r] + j}
 * of the stream under {@code seed[r]}, whatever the batch around it. The pipeline keys image k of a request with seed S
 * as (S, k * D), so a request's images do not depend on what it was batched with, nor on how it was split in chunks.
 *
 * <p>OpenCL kernels read the keys from a small device table (per row 4 words: seed low, seed high, first low, first
 * high), uploaded on first use per device and freed by {@link #close}. The Java device reads the arrays directly.
 */
public final class RowNoise implements Noise, AutoCloseable {
    private final long[] seeds, firsts;
    private Tensor table;

    /**
     * @param seeds  the seed of each row
     * @param firsts the index, in its seed's stream, of each row's first draw (image k of a request: k * D)
     */
    public RowNoise(long[] seeds, long[] firsts) {
        if (seeds.length == 0 || seeds.length != firsts.length)
            throw new IllegalArgumentException("row noise: need one seed and one first index per row, got " + seeds.length
                    + " seeds and " + firsts.length + " first indices");
        for (long f : firsts)
            if (f < 0) throw new IllegalArgumentException("row noise: first indices must be >= 0, got " + f);
        this.seeds = seeds.clone();
        this.firsts = firsts.clone();
    }

    /** The key of rows 0..rows-1 of one request: the same draws as {@code Noise.seed(seed)} on a (rows, D) tensor. */
    public static RowNoise ofRequest(long seed, int rows, long rowLength) {
        long[] s = new long[rows], f = new long[rows];
        Arrays.fill(s, seed);
        for (int r = 0; r < rows; r++) f[r] = Math.multiplyExact((long) r, rowLength);
        return new RowNoise(s, f);
    }

    /** Rows keyed, e.g. {@code keys.rows() == x.dim(0)}. */
    public int rows() { return seeds.length; }

    /** The seed of row {@code row}, e.g. {@code keys.seed(0)}. */
    public long seed(int row) { return seeds[row]; }

    /** The stream index of row {@code row}'s first draw, e.g. {@code keys.first(3) == 3 * 784} for image 3 of a request. */
    public long first(int row) { return firsts[row]; }

    /** Values per row of a tensor of {@code numel} elements; throws unless numel is a whole number of rows. */
    public long rowLength(long numel) {
        if (numel % seeds.length != 0)
            throw new IllegalArgumentException("row noise: " + seeds.length + " row keys do not divide a tensor of " + numel
                    + " elements into rows; key one row per sample of the batch");
        return numel / seeds.length;
    }

    /** Throws, naming {@code op}, unless a tensor of {@code numel} elements is a whole number of rows. */
    @Override
    public void check(String op, long numel) {
        try {
            rowLength(numel);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(op + ": " + e.getMessage().substring("row noise: ".length()), e);
        }
    }

    /** Row by row: each run of a row's elements is {@link Philox#normals} from its first index under its seed. */
    @Override
    public void normals(long stream, long numel, long from, float[] z, int len) {
        long d = rowLength(numel);
        int k = 0;
        while (k < len) {
            long i = from + k, r = i / d, j = i - r * d;
            int seg = (int) Math.min(len - k, d - j);
            Philox.normals(seeds[(int) r], stream, firsts[(int) r] + j, z, k, seg);
            k += seg;
        }
    }

    /** The key table on {@code device} (4 words per row), uploaded on first use; for OpenCL launchers. */
    public synchronized Tensor table(Device device) {
        if (table != null && table.device() == device) return table;
        if (table != null) table.close();
        int[] words = new int[4 * seeds.length];
        for (int r = 0; r < seeds.length; r++) {
            words[4 * r] = (int) seeds[r];
            words[4 * r + 1] = (int) (seeds[r] >>> 32);
            words[4 * r + 2] = (int) firsts[r];
            words[4 * r + 3] = (int) (firsts[r] >>> 32);
        }
        Tensor t = Tensor.allocate(device, words.length);
        device.write(t.storage(), t.byteOffset(), MemorySegment.ofArray(words));
        table = t;
        return t;
    }

    /** Frees the device key tables. */
    @Override
    public synchronized void close() {
        if (table != null) table.close();
        table = null;
    }

    @Override
    public String toString() { return "RowNoise[" + seeds.length + " rows]"; }
}
