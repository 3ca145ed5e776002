package dev.diffuse.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/** Contiguous image-index ranges [first, end): how a run of n images is cut into tasks and a task into chunks. */
public final class IndexRanges {
    private IndexRanges() {}

    /** Images first .. end - 1. */
    public record Range(long first, long end) implements Serializable {
        public Range {
            if (first < 0 || end < first) throw new IllegalArgumentException("range [" + first + ", " + end + ") is not a range of image indices");
        }

        public int count() { return Math.toIntExact(end - first); }
    }

    /** [0, n) in {@code parts} contiguous ranges whose sizes differ by at most one (the first n mod parts one larger); never an empty one. */
    public static List<Range> split(long n, int parts) {
        if (n < 1 || parts < 1) throw new IllegalArgumentException("cannot split " + n + " images into " + parts + " ranges");
        int p = (int) Math.min(parts, n);
        List<Range> out = new ArrayList<>(p);
        long base = n / p, extra = n % p, first = 0;
        for (int i = 0; i < p; i++) {
            long end = first + base + (i < extra ? 1 : 0);
            out.add(new Range(first, end));
            first = end;
        }
        return out;
    }

    /** A range in pieces of at most {@code size} images. */
    public static List<Range> chunks(Range r, int size) {
        List<Range> out = new ArrayList<>();
        for (long a = r.first(); a < r.end(); a += size) out.add(new Range(a, Math.min(r.end(), a + size)));
        return out;
    }
}
