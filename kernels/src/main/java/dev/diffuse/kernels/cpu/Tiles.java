package dev.diffuse.kernels.cpu;

/**
 * Chooses the micro-kernel height for M rows and dispatches to the generated kernels of {@link MicroKernels}.
 * Heights: 12 rows run fastest per FMA, 8 and 4 waste less padding when M is a multiple of 8 or small. With fewer
 * than 512-bit vectors (16 vector registers on AVX2) only 4 rows fit in registers.
 */
public final class Tiles {
    public static final int NR = MicroKernels.NR;
    /** Relative FMA rate of the 12-, 8- and 4-row kernels with B read from L2, as in a convolution (AVX-512). */
    private static final double RATE_12 = 1.0, RATE_8 = 0.81, RATE_4 = 0.70;
    private static final boolean WIDE = MicroKernels.S.vectorBitSize() >= 512;

    private Tiles() {}

    /** The kernel height (12, 8 or 4) with the least padded work for M rows. */
    public static int rows(int m) {
        if (!WIDE) return 4;
        double c12 = ceil(m, 12) / RATE_12, c8 = ceil(m, 8) / RATE_8, c4 = ceil(m, 4) / RATE_4;
        return c12 <= c8 && c12 <= c4 ? 12 : c8 <= c4 ? 8 : 4;
    }

    private static double ceil(int m, int r) { return (double) (m + r - 1) / r * r; }

    /** {@code mr}-row packed-A kernel, see {@link MicroKernels}. */
    public static void packed(int mr, float[] a, int ao, float[] b, int[] boff, int k0, int k1, int j, float[] c, int co, boolean acc) {
        switch (mr) {
            case 12 -> MicroKernels.packed12(a, ao, b, boff, k0, k1, j, c, co, acc);
            case 8 -> MicroKernels.packed8(a, ao, b, boff, k0, k1, j, c, co, acc);
            case 4 -> MicroKernels.packed4(a, ao, b, boff, k0, k1, j, c, co, acc);
            default -> throw new IllegalArgumentException("no " + mr + "-row micro-kernel (12, 8 or 4)");
        }
    }

    /** {@code mr}-row in-place-A kernel, see {@link MicroKernels}. */
    public static void rows(int mr, float[] a, int[] aoff, int ro, int k0, int k1, float[] b, int bo, int ldb, float[] c, int co, boolean acc) {
        switch (mr) {
            case 12 -> MicroKernels.rows12(a, aoff, ro, k0, k1, b, bo, ldb, c, co, acc);
            case 8 -> MicroKernels.rows8(a, aoff, ro, k0, k1, b, bo, ldb, c, co, acc);
            case 4 -> MicroKernels.rows4(a, aoff, ro, k0, k1, b, bo, ldb, c, co, acc);
            default -> throw new IllegalArgumentException("no " + mr + "-row micro-kernel (12, 8 or 4)");
        }
    }
}
