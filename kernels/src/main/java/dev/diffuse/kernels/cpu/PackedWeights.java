package dev.diffuse.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.diffuse.runtime.JavaDevice;

/**
 * Packed weight panels kept between calls, for problems so small that packing the weights would cost more than a
 * few percent of the product (a batch-1 U-Net forward packs 2.3 M conv weights per call otherwise).
 *
 * <p>Validity needs no cooperation from callers: an entry keeps a copy of the weights it was packed from, and every
 * use first compares the weight memory with that copy ({@link MemorySegment#mismatch}, a vectorised memcmp, a few
 * percent of the cost of packing). Any write to the weights (an optimizer step, a checkpoint load, an EMA swap) makes
 * the next call repack. Entries are keyed by the weights' address, size and the packing layout, least recently used
 * first out beyond {@link #MAX_FLOATS}.
 */
final class PackedWeights {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Cache at most this many floats (packed panels and weight copies together): 256 MB. */
    static final long MAX_FLOATS = 64L << 20;

    /** Packs an m x kc weight matrix into MR-row panels (k-major) from its memory. */
    interface Packer { void pack(float[] dst); }

    private record Key(long address, long bytes, int layout, int mr) {}

    private record Entry(float[] copy, float[] packed) {}

    private static final Map<Key, Entry> CACHE = new LinkedHashMap<>(64, 0.75f, true);
    private static long floats;

    private PackedWeights() {}

    /**
     * The panels of {@code w} packed by {@code packer} into {@code size} floats, from the cache when {@code w} still
     * holds the values they were packed from. {@code layout} tells different packings of the same weights apart.
     */
    static float[] get(JavaDevice dev, MemorySegment w, int layout, int mr, int size, Packer packer) {
        Key key = new Key(w.address(), w.byteSize(), layout, mr);
        Entry e;
        synchronized (CACHE) {
            e = CACHE.get(key);
        }
        if (e != null && same(dev, w, MemorySegment.ofArray(e.copy))) return e.packed;
        int n = (int) (w.byteSize() / 4);
        float[] copy = new float[n], packed = new float[size];
        MemorySegment.copy(w, F, 0, copy, 0, n);
        packer.pack(packed);
        synchronized (CACHE) {
            Entry old = CACHE.put(key, new Entry(copy, packed));
            if (old != null) floats -= old.copy.length + old.packed.length;
            floats += n + size;
            var it = CACHE.entrySet().iterator();
            while (floats > MAX_FLOATS && it.hasNext()) {
                Entry ev = it.next().getValue();
                floats -= ev.copy.length + ev.packed.length;
                it.remove();
            }
        }
        return packed;
    }

    /** Bytes compared per chunk of the parallel comparison. */
    private static final long COMPARE_BYTES = 256 * 1024;

    /** Whether two segments of equal size hold the same bytes, compared in parallel chunks. */
    private static boolean same(JavaDevice dev, MemorySegment a, MemorySegment b) {
        long n = a.byteSize();
        int chunks = (int) Math.max(1, (n + COMPARE_BYTES - 1) / COMPARE_BYTES);
        if (chunks == 1) return a.mismatch(b) == -1;
        boolean[] differs = new boolean[chunks];
        dev.parallelFor(chunks, c -> {
            long from = c * COMPARE_BYTES, len = Math.min(COMPARE_BYTES, n - from);
            differs[c] = a.asSlice(from, len).mismatch(b.asSlice(from, len)) != -1;
        });
        for (boolean d : differs) if (d) return false;
        return true;
    }
}
