package dev.diffuse.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Fills the shifted input planes of {@link ConvGeometry} from a tensor in memory (the "packing" of the implicit GEMM),
 * and the transposed output gradient dW needs. Every float the GEMM may read is written, padding as zeros, so stale
 * scratch contents never leak into a result.
 */
final class ConvPlanes {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private ConvPlanes() {}

    /**
     * Planes of channels ci0..ci1-1 for images n0..n0+gn-1 (a group; gn <= G) of x (B, C, H, W) at element xBase of
     * {@code x}, into {@code planes} at the positions {@link ConvGeometry#planeBase} gives; only plane rows
     * rowLo..rowHi-1 (rows of OW floats counted from the plane's start; a chunk that computes some of the columns
     * needs only some rows). Rows past the group are zeroed, as is the tail of the plane when rowHi reaches it.
     */
    static void fill(MemorySegment x, long xBase, ConvGeometry g, int n0, int gn, int ci0, int ci1, int rowLo, int rowHi,
                     float[] planes) {
        int ow = g.ow(), t = g.rowsPerImage(), stored = g.storedRows(), hw = g.h() * g.w();
        int planeRows = g.planeLen() / ow, used = (gn - 1) * t + stored;
        rowHi = Math.min(rowHi, planeRows);
        for (int ci = ci0; ci < ci1; ci++)
            for (int kw = 0; kw < g.k(); kw++)
                for (int ph = 0; ph < g.stride(); ph++) {
                    int base = g.planeBase(ci, kw, ph);
                    for (int i = 0; i < gn; i++) {
                        int lo = Math.max(rowLo, i * t), hi = Math.min(rowHi, i * t + stored);
                        if (lo >= hi) continue;
                        long src = xBase + ((long) (n0 + i) * g.channels() + ci) * hw;
                        // local rows r = row - i*T + sMin of this image
                        imageRows(x, src, g, kw, ph, lo - i * t + g.sMin(), hi - i * t + g.sMin(), base + lo * ow, planes);
                    }
                    int zeroFrom = Math.max(rowLo, used);
                    if (zeroFrom < rowHi) Arrays.fill(planes, base + zeroFrom * ow, base + rowHi * ow, 0f);
                    if (rowHi == planeRows) Arrays.fill(planes, base + planeRows * ow, base + g.planeLen(), 0f);
                }
    }

    /** Plane rows r0..r1-1 of one image ({@code P[r][ow] = x[s*r + phase][s*ow + kw - pl]}, 0 outside) at dst. */
    private static void imageRows(MemorySegment x, long src, ConvGeometry g, int kw, int ph, int r0, int r1, int dst,
                                  float[] planes) {
        int s = g.stride(), ow = g.ow(), w = g.w(), h = g.h(), d = kw - g.padLeft();
        if (s == 1 && ow == w) {
            // input rows r0..r1-1 are consecutive: one shifted copy of the rows inside the input, then the column that
            // fell outside it (ow = W-1 for d > 0, ow = 0 for d < 0) set to zero in each row
            int a = Math.min(Math.max(r0, 0), r1), b = Math.max(Math.min(r1, h), a);   // rows [r0,a) 0, [a,b) data, [b,r1) 0
            Arrays.fill(planes, dst, dst + (a - r0) * w, 0f);
            if (a < b) {
                int first = dst + (a - r0) * w, n = (b - a) * w;
                if (Math.abs(d) >= w) {
                    Arrays.fill(planes, first, first + n, 0f);
                } else {
                    int lo = Math.max(0, -d), hi = n - Math.max(0, d);   // copy positions [lo, hi) of the rows
                    MemorySegment.copy(x, F, (src + (long) a * w + lo + d) * 4, planes, first + lo, hi - lo);
                    for (int r = 0; r < b - a; r++) {
                        int row = first + r * w;
                        if (d > 0) Arrays.fill(planes, row + w - d, row + w, 0f);
                        else if (d < 0) Arrays.fill(planes, row, row - d, 0f);
                    }
                }
            }
            Arrays.fill(planes, dst + (b - r0) * w, dst + (r1 - r0) * w, 0f);
            return;
        }
        // valid ow: 0 <= s*ow + d < W
        int lo = Math.min(ow, Math.max(0, Math.ceilDiv(-d, s))), hi = Math.max(lo, Math.min(ow, Math.ceilDiv(w - d, s)));
        for (int r = r0, o = dst; r < r1; r++, o += ow) {
            int ih = s * r + ph;
            if (ih < 0 || ih >= h) {
                Arrays.fill(planes, o, o + ow, 0f);
                continue;
            }
            long row = src + (long) ih * w;
            Arrays.fill(planes, o, o + lo, 0f);
            if (s == 1) MemorySegment.copy(x, F, (row + lo + d) * 4, planes, o + lo, hi - lo);
            else for (int q = lo; q < hi; q++) planes[o + q] = x.getAtIndex(F, row + (long) s * q + d);
            Arrays.fill(planes, o + hi, o + ow, 0f);
        }
    }

    /**
     * The output gradient of image n, transposed into the GEMM's column order at rows row0..row0+T*OW-1:
     * {@code dyT[(row0 + oh*OW + ow) * ldb + co] = dy[n][co][oh][ow]}; padding rows (oh >= OH) and columns
     * co >= Cout are zero.
     */
    static void transposed(MemorySegment dy, long dyBase, ConvGeometry g, int cout, int n, float[] dyT, int ldb, int row0) {
        int p = g.oh() * g.ow(), span = g.rowsPerImage() * g.ow();
        Arrays.fill(dyT, row0 * ldb, (row0 + span) * ldb, 0f);
        for (int co = 0; co < cout; co++) {
            long src = dyBase + ((long) n * cout + co) * p;
            for (int q = 0, o = row0 * ldb + co; q < p; q++, o += ldb) dyT[o] = dy.getAtIndex(F, src + q);
        }
    }
}
