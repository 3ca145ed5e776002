package dev.diffuse.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import dev.diffuse.runtime.JavaDevice;

/**
 * Convolution weight and bias gradients, and the input gradient of strided convolutions, on the CPU engine.
 * <ul>
 *   <li>dW: {@code dW^T[k][co] = sum_j planes[boff[k] + j] * dyT[j][co]} over every output column j of every image:
 *       the transposed product of the forward's implicit GEMM. Its A rows are the input planes read in place (the
 *       {@code rows} micro-kernel), its B is dy transposed per group of images. Chunks own ranges of rows k =
 *       (ci, kh, kw), fill the planes of their channels, and keep their tiles across all groups, so every dW element
 *       is one FMA chain over (image, pixel) in increasing order: independent of the thread count.</li>
 *   <li>db: per channel, a sum over images and pixels in a fixed order (16 lanes, then the lanes in order).</li>
 *   <li>dx of a strided convolution: {@code dcol = W^T dy} per group of images (a GEMM), then col2im adds each
 *       column into the input pixel it came from; chunks own (group, channel range), and every dx element receives
 *       its terms in the same order whatever the chunking.</li>
 * </ul>
 */
public final class ConvBackward {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final VectorSpecies<Float> S = MicroKernels.S;
    private static final int V = MicroKernels.V, NR = Tiles.NR, KC = CpuGemm.KC;
    private static final ByteOrder LE = ByteOrder.nativeOrder();

    private ConvBackward() {}

    /** dw (cout, cin, k, k) += sum over the batch of dy (B, cout, oh, ow) * the input taps of x (B, cin, h, w). */
    public static void weightGrad(JavaDevice dev, MemorySegment dw, MemorySegment dy, MemorySegment x, int batch, int cin,
                                  int h, int wd, int cout, int oh, int ow, int k, int stride, int pt, int pl) {
        ConvGeometry g = ConvForward.geometry(batch, cin, h, wd, oh, ow, k, stride, pt, pl);
        int kk = k * k, kc = cin * kk, mr = Tiles.rows(kc), panels = (kc + mr - 1) / mr;
        int ldb = ConvGeometry.ceil(cout, NR), coTiles = ldb / NR, span = g.rowsPerImage() * ow;
        Scratch s = Scratch.get();
        int[] boff = s.ints(Scratch.Slot.B, panels * mr);
        g.offsets(boff);
        for (int i = kc; i < panels * mr; i++) boff[i] = boff[0];            // padding rows read row 0; never stored
        float[] acc = s.floats(Scratch.Slot.C, (long) panels * mr * ldb);
        Arrays.fill(acc, 0, panels * mr * ldb, 0f);
        int rowsT = ConvGeometry.ceil(g.columns(), KC);
        float[] dyT = s.floats(Scratch.Slot.TRANSPOSED, (long) rowsT * ldb);
        int chunks = Math.min(panels, Math.max(1, 4 * dev.threads()));
        for (int gi = 0; gi < g.groups(); gi++) {
            int n0 = gi * g.group(), gn = Math.min(g.group(), batch - n0), cols = gn * span;
            dev.parallelFor(gn, t -> ConvPlanes.transposed(dy, 0, g, cout, n0 + t, dyT, ldb, t * span));
            Arrays.fill(dyT, cols * ldb, rowsT * ldb, 0f);
            dev.parallelFor(chunks, ch -> {
                int p0 = ch * panels / chunks, p1 = (ch + 1) * panels / chunks;
                if (p0 >= p1) return;
                float[] planes = Scratch.get().floats(Scratch.Slot.PLANES, g.planesFloats());
                ConvPlanes.fill(x, 0, g, n0, gn, p0 * mr / kk, Math.min(cin, (Math.min(kc, p1 * mr) + kk - 1) / kk), 0,
                        Integer.MAX_VALUE, planes);
                for (int k0 = 0; k0 < cols; k0 += KC) {
                    int k1 = Math.min(cols, k0 + KC);
                    for (int ct = 0; ct < coTiles; ct++)
                        for (int p = p0; p < p1; p++)
                            Tiles.rows(mr, planes, boff, p * mr, k0, k1, dyT, k0 * ldb + ct * NR, ldb, acc,
                                    (p * coTiles + ct) * mr * NR, true);
                }
            });
        }
        // dw[co][i] += dW^T[i][co]
        dev.parallelFor(panels, p -> {
            for (int r = 0; r < mr && p * mr + r < kc; r++)
                for (int co = 0; co < cout; co++) {
                    int ct = co / NR;
                    long idx = (long) co * kc + p * mr + r;
                    dw.setAtIndex(F, idx, dw.getAtIndex(F, idx) + acc[((p * coTiles + ct) * mr + r) * NR + co - ct * NR]);
                }
        });
    }

    /** db[co] += sum over images and pixels of dy (B, cout, P). */
    public static void biasGrad(JavaDevice dev, MemorySegment db, MemorySegment dy, int batch, int cout, int pixels) {
        dev.parallelFor(cout, co -> {
            FloatVector sum = FloatVector.zero(S);
            float tail = 0f;
            for (int n = 0; n < batch; n++) {
                long o = ((long) n * cout + co) * pixels;
                int q = 0;
                for (; q + V <= pixels; q += V) sum = sum.add(FloatVector.fromMemorySegment(S, dy, (o + q) * 4, LE));
                for (; q < pixels; q++) tail += dy.getAtIndex(F, o + q);
            }
            float total = 0f;
            for (int l = 0; l < V; l++) total += sum.lane(l);
            db.setAtIndex(F, co, db.getAtIndex(F, co) + (total + tail));
        });
    }

    /**
     * dx (B, cin, h, w) of a strided convolution, written: per group of images {@code dcol = W^T dy} (rows
     * (ci, kh, kw), columns (image, pixel)) on the micro-kernel, each tile added into dx by col2im,
     * {@code dx[n][ci][s*oh + kh - pt][s*ow + kw - pl] += dcol}. Chunks own (group, channel range).
     */
    public static void inputGradStrided(JavaDevice dev, MemorySegment dx, MemorySegment dy, MemorySegment w, int batch,
                                        int cin, int h, int wd, int cout, int oh, int ow, int k, int stride, int pt,
                                        int pl) {
        int kk = k * k, kc = cin * kk, pix = oh * ow, hw = h * wd;
        int group = Math.max(1, Math.min(batch, ConvForward.PLANE_FLOATS / Math.max(1, cout * pix)));
        int groups = (batch + group - 1) / group;
        int splits = Math.max(1, Math.min(cin, (2 * dev.threads() + groups - 1) / groups));
        dev.parallelFor(groups * splits, ch -> {
            int gi = ch / splits, part = ch % splits, n0 = gi * group, gn = Math.min(group, batch - n0);
            int ci0 = part * cin / splits, ci1 = (part + 1) * cin / splits, rows = (ci1 - ci0) * kk;
            if (rows == 0) return;
            int mr = Tiles.rows(rows), panels = (rows + mr - 1) / mr, cols = gn * pix, ld = ConvGeometry.ceil(cols, NR);
            Scratch s = Scratch.get();
            float[] ap = s.floats(Scratch.Slot.A, (long) panels * mr * cout);
            for (int p = 0; p < panels; p++)       // A[i][co] = w[co][ci0*kk + i]
                Pack.a(w, (long) ci0 * kk, 1, kc, p * mr, mr, rows, 0, cout, ap, p * mr * cout);
            float[] dyg = s.floats(Scratch.Slot.TRANSPOSED, (long) cout * ld + NR);
            int[] boff = s.ints(Scratch.Slot.ROWS, cout);
            for (int co = 0; co < cout; co++) {    // dyg[co][t*P + q] = dy[n0 + t][co][q]
                boff[co] = co * ld;
                for (int t = 0; t < gn; t++)
                    MemorySegment.copy(dy, F, (((long) (n0 + t) * cout + co) * pix) * 4, dyg, co * ld + t * pix, pix);
                Arrays.fill(dyg, co * ld + cols, co * ld + ld, 0f);
            }
            for (int t = 0; t < gn; t++)
                dx.asSlice((((long) (n0 + t) * cin + ci0) * hw) * 4, (long) (ci1 - ci0) * hw * 4).fill((byte) 0);
            float[] tile = s.floats(Scratch.Slot.TILE, (long) mr * NR);
            for (int j = 0; j < cols; j += NR)
                for (int p = 0; p < panels; p++) {
                    for (int k0 = 0; k0 < cout; k0 += KC)
                        Tiles.packed(mr, ap, p * mr * cout + k0 * mr, dyg, boff, k0, Math.min(cout, k0 + KC), j, tile, 0, k0 > 0);
                    col2im(tile, Math.min(mr, rows - p * mr), Math.min(NR, cols - j), ci0 * kk + p * mr, j, n0, dx, cin, h, wd,
                            ow, pix, k, stride, pt, pl);
                }
        });
    }

    /** Adds tile rows i0.. (i = (ci, kh, kw)) over columns j0.. (image, pixel) into the dx pixels they came from. */
    private static void col2im(float[] tile, int rows, int cols, int i0, int j0, int n0, MemorySegment dx, int cin, int h,
                               int wd, int ow, int pix, int k, int s, int pt, int pl) {
        for (int r = 0; r < rows; r++) {
            int i = i0 + r, ci = i / (k * k), kh = i % (k * k) / k, kw = i % k;
            for (int q = 0; q < cols; q++) {
                int c = j0 + q, t = c / pix, pp = c - t * pix, y = pp / ow, x = pp - y * ow;
                int ih = s * y + kh - pt, iw = s * x + kw - pl;
                if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue;
                long idx = (((long) (n0 + t) * cin + ci) * h + ih) * wd + iw;
                dx.setAtIndex(F, idx, dx.getAtIndex(F, idx) + tile[r * NR + q]);
            }
        }
    }
}
