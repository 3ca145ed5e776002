package dev.diffuse.tornado;

import java.util.Map;
import java.util.TreeMap;

/**
 * Element offsets of a pipeline's tensors in one device array, planned when the task graph is built: a first-fit
 * allocator over [0, size) with coalescing frees. Because a TornadoVM task graph is a fixed sequence of tasks, a
 * tensor's lifetime is known at build time: the builder frees a temporary after its last consumer was added, and the
 * array is allocated once with the plan's peak size. Offsets are multiples of {@value #ALIGN} floats (64 bytes).
 */
public final class ArenaPlan {
    public static final int ALIGN = 16;

    private final TreeMap<Integer, Integer> free = new TreeMap<>(); // offset -> length, disjoint and coalesced
    private int top, peak;

    /** Offset of {@code n} new floats. */
    public int alloc(long n) {
        int len = Math.toIntExact((Math.max(n, 1) + ALIGN - 1) / ALIGN * ALIGN);
        for (Map.Entry<Integer, Integer> e : free.entrySet()) {
            if (e.getValue() >= len) {
                int off = e.getKey(), rest = e.getValue() - len;
                free.remove(off);
                if (rest > 0) free.put(off + len, rest);
                return off;
            }
        }
        int off = top;
        top = Math.addExact(top, len);
        peak = Math.max(peak, top);
        return off;
    }

    /** Returns the {@code n} floats at {@code off} (as allocated) to the plan. */
    public void free(int off, long n) {
        int len = Math.toIntExact((Math.max(n, 1) + ALIGN - 1) / ALIGN * ALIGN);
        Map.Entry<Integer, Integer> before = free.floorEntry(off);
        if (before != null && before.getKey() + before.getValue() > off || free.containsKey(off))
            throw new IllegalStateException("ArenaPlan: double free at " + off);
        if (before != null && before.getKey() + before.getValue() == off) {
            off = before.getKey();
            len += before.getValue();
            free.remove(off);
        }
        Integer after = free.get(off + len);
        if (after != null) {
            free.remove(off + len);
            len += after;
        }
        if (off + len == top) top = off;   // a block at the top returns to the unallocated end
        else free.put(off, len);
    }

    /** Floats the array must hold: the peak of the plan. */
    public int size() { return Math.max(peak, ALIGN); }
}
