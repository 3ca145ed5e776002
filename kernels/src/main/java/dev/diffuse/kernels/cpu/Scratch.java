package dev.diffuse.kernels.cpu;

/**
 * Per-thread heap buffers of the CPU engine (packed panels, shifted input planes, tiles), grown on demand and then
 * reused, so a warmed-up op allocates nothing. Each thread (the pool's workers and every thread that calls an op)
 * has its own; a buffer a caller shares with the workers of one parallel loop is only written in disjoint parts.
 * Buffers are zero-filled when (re)allocated but keep old contents between uses: code that relies on zeros (padding)
 * writes them itself.
 */
public final class Scratch {
    private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

    /** What a buffer is for; each slot is an independent buffer. */
    public enum Slot { A, A2, A3, B, B2, B3, B4, C, C2, C3, PLANES, TRANSPOSED, TILE, TILE2, ROWS, STATS, PACK, PACK2, STAGE }

    private final float[][] floats = new float[Slot.values().length][];
    private final int[][] ints = new int[Slot.values().length][];

    private Scratch() {}

    /** The calling thread's scratch. */
    public static Scratch get() { return LOCAL.get(); }

    /** A float buffer of at least {@code n} elements for {@code slot}. */
    public float[] floats(Slot slot, long n) {
        int i = slot.ordinal();
        float[] f = floats[i];
        if (f == null || f.length < n) floats[i] = f = new float[grow(f == null ? 0 : f.length, n, slot)];
        return f;
    }

    /** An int buffer of at least {@code n} elements for {@code slot}. */
    public int[] ints(Slot slot, int n) {
        int i = slot.ordinal();
        int[] f = ints[i];
        if (f == null || f.length < n) ints[i] = f = new int[grow(f == null ? 0 : f.length, n, slot)];
        return f;
    }

    /** Grows by at least 1/4 so a slowly rising size does not reallocate every call. */
    private static int grow(int have, long need, Slot slot) {
        long n = Math.max(need, have + (have >> 2));
        if (need > Integer.MAX_VALUE - 64)
            throw new IllegalArgumentException("CPU engine scratch " + slot + ": " + need + " elements exceed a Java array;"
                    + " use a smaller batch");
        return (int) Math.min(Integer.MAX_VALUE - 64, n);
    }
}
