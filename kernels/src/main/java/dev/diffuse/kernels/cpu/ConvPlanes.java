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
     * {@code x}, into {@code planes} at the positions {@link ConvGeometry#planeBase} gives.
     */
    static void fill(MemorySegment x, long xBase, ConvGeometry g, int n0, int gn, int ci0, int ci1, float[] planes) {
        int ow = g.ow(), t = g.rowsPerImage(), stored = g.storedRows(), hw = g.h() * g.w();
        for (int ci = ci0; ci < ci1; ci++)
            for (int kw = 0; kw < g.k(); kw++)
                for (int ph = 0; ph < g.stride(); ph++) {
                    int base = g.planeBase(ci, kw, ph);
                    for (int i = 0; i < gn; i++) {
                        long src = xBase + ((long) (n0 + i) * g.channels() + ci) * hw;
                        int dst = base + i * t * ow;
                        if (g.stride() == 1 && ow == g.w()) wholePlane(x, src, g, kw, dst, planes);
                        else rows(x, src, g, kw, ph, dst, planes);
                    }
                    int end = base + ((gn - 1) * t + stored) * ow;
                    Arrays.fill(planes, end, base + g.planeLen(), 0f);    // rows past the group and the tile overrun
                }
    }

    /**
     * Stride 1, OW = W: plane row r (input row r) is x's row r shifted by d = kw - pl, so the rows of the whole input
     * plane are one shifted copy; then the column that fell outside the input (ow = W-1 for d > 0, ow = 0 for d < 0)
     * is set to zero in every row, and the stored rows above and below the input are zero rows.
     */
    private static void wholePlane(MemorySegment x, long src, ConvGeometry g, int kw, int dst, float[] planes) {
        int w = g.w(), h = g.h(), d = kw - g.padLeft(), top = -g.sMin();    // plane rows above input row 0
        int first = dst + top * w;                                         // where input row 0 lands
        Arrays.fill(planes, dst, first, 0f);
        if (Math.abs(d) >= w) {
            Arrays.fill(planes, first, first + h * w, 0f);
        } else {
            int lo = Math.max(0, -d), n = h * w - Math.abs(d);
            MemorySegment.copy(x, F, (src + lo + d) * 4, planes, first + lo, n);
            for (int r = 0; r < h; r++) {                                  // columns outside the input, in each row
                int row = first + r * w;
                if (d > 0) Arrays.fill(planes, row + w - d, row + w, 0f);
                else if (d < 0) Arrays.fill(planes, row, row - d, 0f);
            }
        }
        int below = g.storedRows() - top - h;
        Arrays.fill(planes, first + h * w, first + (h + Math.max(0, below)) * w, 0f);
    }

    /** General case, row by row: {@code P[r][ow] = x[s*r + phase][s*ow + kw - pl]}, 0 outside the input. */
    private static void rows(MemorySegment x, long src, ConvGeometry g, int kw, int ph, int dst, float[] planes) {
        int s = g.stride(), ow = g.ow(), w = g.w(), d = kw - g.padLeft();
        // valid ow: 0 <= s*ow + d < W
        int lo = Math.min(ow, Math.max(0, Math.ceilDiv(-d, s))), hi = Math.max(lo, Math.min(ow, Math.ceilDiv(w - d, s)));
        for (int r = g.sMin(), o = dst; r < g.oh() + g.sMax(); r++, o += ow) {
            int ih = s * r + ph;
            if (ih < 0 || ih >= g.h()) {
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
