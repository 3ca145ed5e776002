package dev.diffuse.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.diffuse.runtime.JavaDevice;

/**
 * Convolution forward on the Java device as an implicit GEMM over shifted input planes ({@link ConvGeometry}):
 * {@code y[co][j] = sum_k W[co][k] planes[boff[k] + j]} with the weights packed into MR-row panels once per call and
 * the planes of a group of images filled per chunk into a per-thread buffer (about L2 size). Tensors are read and
 * written where they live; nothing is copied whole. Also runs the input gradient of a stride-1 convolution, which is
 * the convolution of dy with the flipped, transposed weights ({@link #inputGradStride1}).
 *
 * <p>Work is split into chunks of (group of images, range of column tiles); every output element is one FMA chain
 * over k = (ci, kh, kw) in increasing order, so the result depends neither on scheduling nor on the thread count.
 */
public final class ConvForward {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final int NR = Tiles.NR;
    /**
     * K block. The B rows of a tile (K rows of NR floats scattered over the planes) are read straight from the planes
     * by every row panel: measured on AVX-512, copying them into a contiguous L1 slab first, or cutting K into L1-sized
     * blocks, cost 5-15% (the extra stores and tile reloads outweigh the L2 reads they save), so K is cut only when
     * very long.
     */
    static final int KC = 2048;
    /** A group's planes are at most about this many floats (384 KB, within a 2 MB L2). */
    static final int PLANE_FLOATS = 96 * 1024;

    private ConvForward() {}

    /**
     * y (B, cout, oh, ow) = conv(x (B, cin, h, w), w (cout, cin, k, k)) with stride and top/left padding, plus the
     * epilogue (bias and fused adds).
     */
    public static void forward(JavaDevice dev, MemorySegment y, MemorySegment x, MemorySegment w, ConvEpilogue e,
                               int batch, int cin, int h, int wd, int cout, int oh, int ow, int k, int stride, int pt, int pl) {
        int kc = cin * k * k, mr = Tiles.rows(cout);
        float[] ap = weights(dev, w, LAYOUT_FORWARD, cout, kc, mr, (long) batch * oh * ow, (co, q) -> 0f);
        run(dev, geometry(batch, cin, h, wd, oh, ow, k, stride, pt, pl), cout, ap, mr, x, y, e);
    }

    /**
     * dx (B, cin, h, w) = conv_transpose(dy (B, cout, oh, ow), w) for a stride-1 convolution: a stride-1 convolution
     * of dy with {@code W'[ci][co][kh][kw] = W[co][ci][K-1-kh][K-1-kw]} and paddings {@code K-1-pt}, {@code K-1-pl}
     * (each dx element collects w * dy over the taps that read it, which is this correlation). Written, or added to
     * dx when {@code accumulate}.
     */
    public static void inputGradStride1(JavaDevice dev, MemorySegment dx, MemorySegment dy, MemorySegment w, int batch,
                                        int cin, int h, int wd, int cout, int oh, int ow, int k, int pt, int pl,
                                        boolean accumulate) {
        int kk = k * k, kc = cout * kk, mr = Tiles.rows(cin);
        // A[ci][(co, kh', kw')] = W[co][ci][K-1-kh'][K-1-kw']
        float[] ap = weights(dev, w, LAYOUT_FLIPPED, cin, kc, mr, (long) batch * h * wd, (ci, q) -> {
            int co = q / kk, t = q - co * kk;
            return w.getAtIndex(F, ((long) co * cin + ci) * kk + (kk - 1 - t));
        });
        ConvEpilogue e = accumulate ? new ConvEpilogue(null, 0, null, 0, dx, 0, 1f) : ConvEpilogue.NONE;
        run(dev, geometry(batch, cout, oh, ow, h, wd, k, 1, k - 1 - pt, k - 1 - pl), cin, ap, mr, dy, dx, e);
    }

    /** Element (row, col) of a weight matrix. */
    interface Weights { float get(int row, int col); }

    static final int LAYOUT_FORWARD = 0, LAYOUT_FLIPPED = 1;
    /** Below this many output pixels per weight (B * OH * OW) packed weights are cached ({@link PackedWeights}). */
    static final long CACHE_BELOW_PIXELS = 4096;

    /**
     * The m x kc weight matrix packed into MR-row panels: row-major {@code w} itself for {@link #LAYOUT_FORWARD}, else
     * {@code wt}. Small problems take the panels from {@link PackedWeights}; large ones pack into scratch, in parallel.
     */
    static float[] weights(JavaDevice dev, MemorySegment w, int layout, int m, int kc, int mr, long pixels, Weights wt) {
        int panels = (m + mr - 1) / mr, size = panels * mr * kc;
        if (pixels < CACHE_BELOW_PIXELS)
            return PackedWeights.get(dev, w, layout, mr, size, dst -> packWeights(dev, m, kc, mr, wt, layout == LAYOUT_FORWARD ? w : null, dst));
        float[] ap = Scratch.get().floats(Scratch.Slot.A, size);
        packWeights(dev, m, kc, mr, wt, layout == LAYOUT_FORWARD ? w : null, ap);
        return ap;
    }

    /**
     * Packs the m x kc weight matrix into MR-row panels in {@code ap}, in parallel over panels. When {@code rowMajor}
     * is given the rows are read from it (row stride kc), else element by element from {@code wt}.
     */
    static void packWeights(JavaDevice dev, int m, int kc, int mr, Weights wt, MemorySegment rowMajor, float[] ap) {
        int panels = (m + mr - 1) / mr;
        boolean all = (long) m * kc < 1 << 15;
        dev.parallelFor(all ? 1 : panels, ch -> {
            for (int p = all ? 0 : ch, p1 = all ? panels : ch + 1; p < p1; p++) {
                if (rowMajor != null) {
                    Pack.a(rowMajor, 0, kc, 1, p * mr, mr, m, 0, kc, ap, p * mr * kc);
                    continue;
                }
                int rows = Math.min(mr, m - p * mr);
                for (int r = 0; r < mr; r++)
                    for (int q = 0, o = p * mr * kc + r; q < kc; q++, o += mr) ap[o] = r < rows ? wt.get(p * mr + r, q) : 0f;
            }
        });
    }

    static ConvGeometry geometry(int batch, int cin, int h, int wd, int oh, int ow, int k, int stride, int pt, int pl) {
        ConvGeometry one = ConvGeometry.of(batch, cin, h, wd, oh, ow, k, stride, pt, pl, 1);
        long perImage = (long) cin * one.planesPerChannel() * one.rowsPerImage() * ow;
        int group = (int) Math.max(1, Math.min(batch, PLANE_FLOATS / Math.max(1, perImage)));
        return ConvGeometry.of(batch, cin, h, wd, oh, ow, k, stride, pt, pl, group);
    }

    /** The GEMM over planes: y[co][j] = sum_k ap(co, k) planes[boff[k] + j], written through the epilogue. */
    static void run(JavaDevice dev, ConvGeometry g, int cout, float[] ap, int mr, MemorySegment x, MemorySegment y,
                    ConvEpilogue e) {
        int kc = g.channels() * g.k() * g.k(), panels = (cout + mr - 1) / mr, groups = g.groups();
        int[] boff = Scratch.get().ints(Scratch.Slot.B, kc);
        g.offsets(boff);
        int tilesPerGroup = (g.columns() + NR - 1) / NR;
        int splits = Math.max(1, Math.min(tilesPerGroup, (2 * dev.threads() + groups - 1) / groups));
        int t = g.rowsPerImage(), ow = g.ow(), p = g.oh() * ow, span = t * ow;
        dev.parallelFor(groups * splits, ch -> {
            int gi = ch / splits, part = ch % splits, n0 = gi * g.group(), gn = Math.min(g.group(), g.batch() - n0);
            int cols = gn * span, tiles = (cols + NR - 1) / NR;
            int t0 = part * tiles / splits, t1 = (part + 1) * tiles / splits;
            if (t0 >= t1) return;
            Scratch s = Scratch.get();
            float[] planes = s.floats(Scratch.Slot.PLANES, g.planesFloats());
            float[] tile = s.floats(Scratch.Slot.TILE, (long) mr * NR);
            // plane rows the tiles t0..t1-1 read: columns [t0*NR, t1*NR) shifted by up to (sMax - sMin) rows
            int rowLo = t0 * NR / ow, rowHi = Math.ceilDiv(t1 * NR, ow) + g.sMax() - g.sMin();
            ConvPlanes.fill(x, 0, g, n0, gn, 0, g.channels(), rowLo, rowHi, planes);
            // panel-major: one A panel (mr x K, 27 KB for K = 576) stays in L1 while the chunk's tiles stream their B
            // rows from the planes (L2); each finished tile goes straight through the epilogue
            for (int pi = 0; pi < panels; pi++)
                for (int tt = t0; tt < t1; tt++) {
                    int j = tt * NR;
                    for (int k0 = 0; k0 < kc; k0 += KC)
                        Tiles.packed(mr, ap, pi * mr * kc + k0 * mr, planes, boff, k0, Math.min(kc, k0 + KC), j, tile, 0, k0 > 0);
                    // columns j..j+NR-1 of the group: runs of valid pixels of one image (oh < OH)
                    for (int c = j, end = Math.min(cols, j + NR); c < end; ) {
                        int img = c / span, rem = c - img * span;
                        if (rem >= p) {
                            c = (img + 1) * span;
                            continue;
                        }
                        int len = Math.min(p - rem, end - c);
                        e.store(tile, c - j, Math.min(mr, cout - pi * mr), len, pi * mr, n0 + img, cout, p, rem, y, 0);
                        c += len;
                    }
                }
        });
    }
}
