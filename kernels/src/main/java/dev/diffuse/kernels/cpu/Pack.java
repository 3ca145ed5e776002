package dev.diffuse.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Packing for the micro-kernels: copies of small blocks of an operand into reused heap panels, in the order the
 * kernels read them (BLIS-style). An A panel is k-major with {@code mr} rows interleaved
 * ({@code dst[(k - k0) * mr + r]}, zero rows past the matrix); a B panel is k-major with {@link #NR} columns
 * ({@code dst[k * NR + q]}, zero columns past the matrix), read by the kernels through {@link #seq}. Memory is read
 * in contiguous runs (bulk copies), never element by element.
 */
public final class Pack {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    static final int NR = MicroKernels.NR;
    /** k's per block of a transposing B pack. */
    private static final int TK = 64;
    /** {@code SEQ[k] = k * NR}: row offsets of a B panel. */
    private static final int[] SEQ = sequence(8192);

    private Pack() {}

    /** Row offsets {@code k * NR} for k < rows (shared for up to 8192 rows). */
    static int[] seq(int rows) { return rows <= SEQ.length ? SEQ : sequence(rows); }

    static int[] sequence(int rows) {
        int[] s = new int[rows];
        for (int r = 0; r < rows; r++) s[r] = r * NR;
        return s;
    }

    /**
     * A panel from memory: {@code dst[d0 + (k-k0)*mr + r] = A[m0 + r][k]} with {@code A[i][k] = src[base + i*rs + k*cs]}
     * (element strides: a row-major A has rs = lda, cs = 1; a transposed one rs = 1, cs = lda), 0 for rows i >= m.
     */
    public static void a(MemorySegment src, long base, long rs, long cs, int m0, int mr, int m, int k0, int k1,
                         float[] dst, int d0) {
        int rows = Math.min(mr, m - m0), kn = k1 - k0;
        if (cs == 1) {           // rows contiguous: stage the mr rows' runs, then write k-major sequentially
            float[] run = Scratch.get().floats(Scratch.Slot.PACK, (long) mr * kn);
            for (int r = 0; r < rows; r++) MemorySegment.copy(src, F, (base + (m0 + r) * rs + k0) * 4, run, r * kn, kn);
            for (int r = rows; r < mr; r++) java.util.Arrays.fill(run, r * kn, (r + 1) * kn, 0f);
            for (int k = 0, o = d0; k < kn; k++)
                for (int r = 0, i = k; r < mr; r++, i += kn) dst[o++] = run[i];
            return;
        } else if (rs == 1) {    // columns contiguous: the mr rows of one k are a run
            for (int k = 0; k < kn; k++)
                MemorySegment.copy(src, F, (base + (k0 + k) * cs + m0) * 4, dst, d0 + k * mr, rows);
        } else {
            for (int k = 0, o = d0; k < kn; k++, o += mr)
                for (int r = 0; r < rows; r++) dst[o + r] = src.getAtIndex(F, base + (m0 + r) * rs + (k0 + k) * cs);
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
     * B panel of columns j0..j0+NR-1 from memory: {@code dst[d0 + k*NR + q] = B[k][j0 + q]} for k < kn with
     * {@code B[k][j] = src[base + k*rs + j*cs]} (a row-major B has rs = ldb, cs = 1; a transposed one rs = 1, cs = ldb),
     * 0 for columns j >= n.
     */
    public static void b(MemorySegment src, long base, long rs, long cs, int j0, int n, int kn, float[] dst, int d0) {
        int cols = Math.min(NR, n - j0);
        if (cs == 1) {           // each row's NR columns are a run
            for (int k = 0, o = d0; k < kn; k++, o += NR) {
                MemorySegment.copy(src, F, (base + k * rs + j0) * 4, dst, o, cols);
                if (cols < NR) Arrays.fill(dst, o + cols, o + NR, 0f);
            }
        } else {                 // each column is a run over k: transpose blocks of TK k's (8 KB in, 8 KB out, in L1)
            float[] run = Scratch.get().floats(Scratch.Slot.PACK, (long) NR * TK);
            for (int k0 = 0; k0 < kn; k0 += TK) {
                int kb = Math.min(TK, kn - k0);
                for (int q = 0; q < cols; q++) MemorySegment.copy(src, F, (base + (j0 + q) * cs + k0) * 4, run, q * TK, kb);
                for (int q = cols; q < NR; q++) java.util.Arrays.fill(run, q * TK, q * TK + kb, 0f);
                for (int k = 0, o = d0 + k0 * NR; k < kb; k++)
                    for (int q = 0, i = k; q < NR; q++, i += TK) dst[o++] = run[i];
            }
        }
    }
}
