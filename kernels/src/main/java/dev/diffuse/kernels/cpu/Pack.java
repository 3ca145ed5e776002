package dev.diffuse.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Packing for the micro-kernels: copies of small blocks of an operand into reused heap panels, in the order the
 * kernels read them. An A panel is k-major, {@code mr} rows interleaved ({@code dst[(k - k0) * mr + r]}), with zero
 * rows past the matrix; a B panel is row-major with a row stride of whole tiles, zero-padded on the right.
 */
public final class Pack {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private Pack() {}

    /**
     * A panel from memory: {@code dst[d0 + (k-k0)*mr + r] = A[m0 + r][k]} with {@code A[i][k] = src[base + i*rs + k*cs]}
     * (element strides: row-major A has rs = lda, cs = 1; a transposed one rs = 1, cs = lda), 0 for rows i >= m.
     */
    public static void a(MemorySegment src, long base, long rs, long cs, int m0, int mr, int m, int k0, int k1,
                         float[] dst, int d0) {
        int rows = Math.min(mr, m - m0), kn = k1 - k0;
        if (cs == 1) {           // rows contiguous: walk each row, write with stride mr
            for (int r = 0; r < rows; r++) {
                long s = base + (m0 + r) * rs + k0;
                for (int k = 0, o = d0 + r; k < kn; k++, o += mr) dst[o] = src.getAtIndex(F, s + k);
            }
        } else {                 // columns contiguous (rs == 1 typically): walk k, read mr neighbours
            for (int k = 0, o = d0; k < kn; k++, o += mr) {
                long s = base + (k0 + k) * cs + m0 * rs;
                for (int r = 0; r < rows; r++) dst[o + r] = src.getAtIndex(F, s + r * rs);
            }
        }
        zeroRows(dst, d0, mr, rows, kn);
    }

    /** A panel from a heap array: as {@link #a(MemorySegment, long, long, long, int, int, int, int, int, float[], int)}. */
    public static void a(float[] src, int base, int rs, int cs, int m0, int mr, int m, int k0, int k1, float[] dst, int d0) {
        int rows = Math.min(mr, m - m0), kn = k1 - k0;
        if (cs == 1) {
            for (int r = 0; r < rows; r++) {
                int s = base + (m0 + r) * rs + k0;
                for (int k = 0, o = d0 + r; k < kn; k++, o += mr) dst[o] = src[s + k];
            }
        } else {
            for (int k = 0, o = d0; k < kn; k++, o += mr) {
                int s = base + (k0 + k) * cs + m0 * rs;
                for (int r = 0; r < rows; r++) dst[o + r] = src[s + r * rs];
            }
        }
        zeroRows(dst, d0, mr, rows, kn);
    }

    private static void zeroRows(float[] dst, int d0, int mr, int rows, int kn) {
        if (rows < mr)
            for (int k = 0, o = d0; k < kn; k++, o += mr)
                for (int r = rows; r < mr; r++) dst[o + r] = 0f;
    }

    /**
     * B rows from a row-major matrix: {@code dst[d0 + (k-k0)*ldb + j] = src[base + k*rowStride + j]} for j < n and
     * 0 for n <= j < ldb.
     */
    public static void bRows(MemorySegment src, long base, long rowStride, int k0, int k1, int n, float[] dst, int d0,
                             int ldb) {
        for (int k = k0, o = d0; k < k1; k++, o += ldb) {
            MemorySegment.copy(src, F, (base + k * rowStride) * 4, dst, o, n);
            if (ldb > n) java.util.Arrays.fill(dst, o + n, o + ldb, 0f);
        }
    }

    /**
     * B rows from a transposed matrix, columns j0..j1-1: {@code dst[d0 + k*ldb + j] = src[base + j*ld + k]} for
     * k < kn (each source row is read contiguously).
     */
    public static void bTransposed(MemorySegment src, long base, long ld, int j0, int j1, int kn, float[] dst, int d0,
                                   int ldb) {
        for (int j = j0; j < j1; j++) {
            long s = base + j * ld;
            for (int k = 0, o = d0 + j; k < kn; k++, o += ldb) dst[o] = src.getAtIndex(F, s + k);
        }
    }

    /** Zeroes columns j0..j1-1 of kn rows of a B panel (padding right of the matrix). */
    public static void zeroColumns(float[] dst, int d0, int ldb, int j0, int j1, int kn) {
        if (j1 > j0)
            for (int k = 0, o = d0; k < kn; k++, o += ldb) java.util.Arrays.fill(dst, o + j0, o + j1, 0f);
    }
}
