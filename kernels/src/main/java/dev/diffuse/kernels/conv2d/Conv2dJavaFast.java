package dev.diffuse.kernels.conv2d;

import java.util.Arrays;

import dev.diffuse.kernels.linear.ArrayGemm;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Fast Java path of {@link Conv2d}: each pass is a GEMM on a small im2col block held in a per-chunk heap array
 * (never the whole batch), with the Vector-API register-blocked kernel {@link ArrayGemm#gemm}. Work is split into chunks that
 * own disjoint outputs, so no chunk waits on another and the result does not depend on scheduling.
 * <ul>
 *   <li>forward, chunk = block of PBLOCK columns (n, pixel) of the whole batch: y[block] = b + w (Cout x CinKK) .
 *       col (CinKK x block);</li>
 *   <li>dx, chunk (group of images, ci block): dcol = w^T[ci block rows] (rows x Cout) . dy[group] (Cout x G*P), then
 *       col2im adds dcol into dx[group, ci block] (the rows of a ci block only ever land in those channels);</li>
 *   <li>dw, chunk (ci block, co block): dw[co block, ci block]^T += sum_n col (ci-block KK x P) . dy[n, co block]^T
 *       (P x co block); with few output channels dw[co block, ci block] += sum_n dy[n, co block] . colT instead.</li>
 * </ul>
 */
final class Conv2dJavaFast {
    private static final int PBLOCK = 128; // output pixels per forward chunk

    private Conv2dJavaFast() {}

    static void forward(JavaDevice dev, Tensor y, Tensor x, Tensor w, Tensor b, Conv2d.Dims d, Conv2dSpec s) {
        float[] xa = x.toArray(), wa = w.toArray(), ba = b.toArray();
        // columns j = n*P + p over the whole batch, cut in blocks of PBLOCK (a block may span images, so small
        // maps like 7x7 still give full-width GEMMs); each block computes a Cout x nj tile, then scatters it into y
        int P = d.p(), Cout = d.Cout(), Cin = d.Cin(), K = d.K(), kc = Cin * d.kk(), T = d.B() * P;
        int blocks = ceilDiv(T, PBLOCK);
        float[] ya = new float[d.B() * Cout * P];
        dev.parallelFor(blocks, c -> {
            int j0 = c * PBLOCK, nj = Math.min(PBLOCK, T - j0);
            float[] col = new float[kc * nj], ct = new float[Cout * nj];
            for (int co = 0; co < Cout; co++) Arrays.fill(ct, co * nj, (co + 1) * nj, ba[co]);
            for (int j = j0; j < j0 + nj; ) {
                int n = j / P, p0 = j - n * P, np = Math.min(P - p0, j0 + nj - j);
                for (int ci = 0; ci < Cin; ci++)
                    for (int kh = 0; kh < K; kh++)
                        for (int kw = 0; kw < K; kw++)
                            gatherRow(xa, (n * Cin + ci) * d.hw(), d, s, kh, kw, p0, np, col, ((ci * K + kh) * K + kw) * nj + j - j0);
                j += np;
            }
            ArrayGemm.gemm(Cout, nj, kc, wa, 0, kc, col, 0, nj, ct, 0, nj);
            for (int j = j0; j < j0 + nj; ) {
                int n = j / P, p0 = j - n * P, np = Math.min(P - p0, j0 + nj - j);
                for (int co = 0; co < Cout; co++) System.arraycopy(ct, co * nj + j - j0, ya, (n * Cout + co) * P + p0, np);
                j += np;
            }
        });
        y.upload(ya);
    }

    static void backward(JavaDevice dev, Tensor dx, Tensor dw, Tensor db, Tensor dy, Tensor x, Tensor w,
                         Conv2d.Dims d, Conv2dSpec s) {
        float[] dya = dy.toArray(), xa = x.toArray();
        if (dx != null) dx.upload(inputGrad(dev, dya, w.toArray(), d, s));
        float[] dwa = dw.toArray();
        weightGrad(dev, dwa, dya, xa, d, s);
        dw.upload(dwa);
        if (db != null) {
            float[] dba = db.toArray();
            int P = d.p();
            for (int co = 0; co < d.Cout(); co++) {
                float sum = 0;
                for (int n = 0; n < d.B(); n++)
                    for (int p = 0, o = (n * d.Cout() + co) * P; p < P; p++) sum += dya[o + p];
                dba[co] += sum;
            }
            db.upload(dba);
        }
    }

    private static float[] inputGrad(JavaDevice dev, float[] dya, float[] wa, Conv2d.Dims d, Conv2dSpec s) {
        int Cin = d.Cin(), Cout = d.Cout(), KK = d.kk(), K = d.K(), kc = Cin * KK, P = d.p(), HW = d.hw();
        float[] wt = new float[kc * Cout]; // wt[(ci,kh,kw), co] = w[co, (ci,kh,kw)]
        for (int co = 0; co < Cout; co++)
            for (int k = 0; k < kc; k++) wt[k * Cout + co] = wa[co * kc + k];
        float[] dxa = new float[d.B() * Cin * HW];
        // chunk = (group of G images, ci block): G images side by side make the GEMM at least ~256 columns wide
        int B = d.B(), G = Math.max(1, Math.min(B, 256 / P)), groups = ceilDiv(B, G);
        int perGroup = Math.min(Cin, Math.max(1, ceilDiv(2 * dev.threads(), groups)));
        int ciPer = ceilDiv(Cin, perGroup), ciBlocks = ceilDiv(Cin, ciPer);
        dev.parallelFor(groups * ciBlocks, c -> {
            int n0 = (c / ciBlocks) * G, g = Math.min(G, B - n0), gp = g * P;
            int ci0 = (c % ciBlocks) * ciPer, ci1 = Math.min(Cin, ci0 + ciPer), rows = (ci1 - ci0) * KK;
            float[] dyg = new float[Cout * gp], dcol = new float[rows * gp];   // dyg[co, t*P + p] = dy[n0+t, co, p]
            for (int t = 0; t < g; t++)
                for (int co = 0; co < Cout; co++) System.arraycopy(dya, ((n0 + t) * Cout + co) * P, dyg, co * gp + t * P, P);
            ArrayGemm.gemm(rows, gp, Cout, wt, ci0 * KK * Cout, Cout, dyg, 0, gp, dcol, 0, gp);
            // col2im: dcol row (ci,kh,kw), column t*P + (oh,ow) belongs to dx[n0+t, ci, oh*s+kh-pt, ow*s+kw-pl]
            for (int t = 0; t < g; t++)
                for (int ci = ci0; ci < ci1; ci++)
                    for (int kh = 0; kh < K; kh++)
                        for (int kw = 0; kw < K; kw++)
                            scatterRow(dxa, ((n0 + t) * Cin + ci) * HW, d, s, kh, kw, dcol, ((ci - ci0) * KK + kh * K + kw) * gp + t * P);
        });
        return dxa;
    }

    private static void weightGrad(JavaDevice dev, float[] dwa, float[] dya, float[] xa, Conv2d.Dims d, Conv2dSpec s) {
        int Cin = d.Cin(), Cout = d.Cout(), KK = d.kk(), kc = Cin * KK, P = d.p();
        int want = 2 * dev.threads();
        int ciPer = ceilDiv(Cin, Math.min(Cin, want)), ciBlocks = ceilDiv(Cin, ciPer);
        int coSplit = ciBlocks >= want ? 1 : Math.min(ceilDiv(Cout, 4), ceilDiv(want, ciBlocks));
        if (Cout >= WIDE_COUT) {
            // dW^T[k, co] += col (nk x P) . dy[n]^T (P x Cout): col is a plain (contiguous) im2col and the GEMM is
            // Cout wide; only dy is transposed, once. Same FMA chain per element (n, then p ascending) as below.
            int coPer = Math.min(Cout, ceilDiv(ceilDiv(Cout, coSplit), WIDE_COUT) * WIDE_COUT), coBlocks = ceilDiv(Cout, coPer);
            float[] dyT = new float[d.B() * P * Cout];
            dev.parallelFor(d.B(), n -> {
                for (int co = 0; co < Cout; co++)
                    for (int p = 0, o = (n * Cout + co) * P; p < P; p++) dyT[(n * P + p) * Cout + co] = dya[o + p];
            });
            dev.parallelFor(ciBlocks * coBlocks, c -> {
                int ci0 = (c / coBlocks) * ciPer, ci1 = Math.min(Cin, ci0 + ciPer), nk = (ci1 - ci0) * KK;
                int co0 = (c % coBlocks) * coPer, co1 = Math.min(Cout, co0 + coPer), mo = co1 - co0;
                float[] col = new float[nk * P], partT = new float[nk * mo];
                for (int n = 0; n < d.B(); n++) {
                    im2col(xa, n, d, s, ci0, ci1, 0, P, col, false);
                    ArrayGemm.gemm(nk, mo, P, col, 0, P, dyT, n * P * Cout + co0, Cout, partT, 0, mo);
                }
                for (int co = co0; co < co1; co++)
                    for (int k = 0; k < nk; k++) dwa[co * kc + ci0 * KK + k] += partT[k * mo + co - co0];
            });
            return;
        }
        // few output channels (conv_out): dW[co block, k] += dy[n, co block] (mo x P) . colT (P x nk)
        int coPer = ceilDiv(Cout, coSplit), coBlocks = ceilDiv(Cout, coPer);
        dev.parallelFor(ciBlocks * coBlocks, c -> {
            int ci0 = (c / coBlocks) * ciPer, ci1 = Math.min(Cin, ci0 + ciPer), nk = (ci1 - ci0) * KK;
            int co0 = (c % coBlocks) * coPer, co1 = Math.min(Cout, co0 + coPer), mo = co1 - co0;
            float[] colT = new float[P * nk], part = new float[mo * nk];
            for (int n = 0; n < d.B(); n++) {
                im2col(xa, n, d, s, ci0, ci1, 0, P, colT, true);
                ArrayGemm.gemm(mo, nk, P, dya, (n * Cout + co0) * P, P, colT, 0, nk, part, 0, nk);
            }
            for (int co = co0; co < co1; co++)
                for (int k = 0; k < nk; k++) dwa[co * kc + ci0 * KK + k] += part[(co - co0) * nk + k];
        });
    }

    /** From this many output channels on, dW is computed transposed (a Cout-wide GEMM). */
    private static final int WIDE_COUT = 16;

    /**
     * col[(ci-ci0,kh,kw), j] = x[n, ci, oh*s+kh-pt, ow*s+kw-pl] (0 outside) for output pixels p0 + j = (oh, ow),
     * j < np; stored row-major (rows x np), or transposed (np x rows) when {@code transposed} (built row-major in a
     * temporary, then transposed in cache-sized blocks).
     */
    private static void im2col(float[] x, int n, Conv2d.Dims d, Conv2dSpec s, int ci0, int ci1, int p0, int np,
                               float[] out, boolean transposed) {
        int K = d.K(), rows = (ci1 - ci0) * K * K;
        float[] dst = transposed ? new float[rows * np] : out;
        for (int ci = ci0; ci < ci1; ci++)
            for (int kh = 0; kh < K; kh++)
                for (int kw = 0; kw < K; kw++) {
                    int row = ((ci - ci0) * K + kh) * K + kw;
                    gatherRow(x, (n * d.Cin() + ci) * d.H() * d.W(), d, s, kh, kw, p0, np, dst, row * np);
                }
        if (transposed) {
            final int T = 32;
            for (int r0 = 0; r0 < rows; r0 += T)
                for (int j0 = 0; j0 < np; j0 += T)
                    for (int r = r0, r1 = Math.min(rows, r0 + T); r < r1; r++)
                        for (int j = j0, j1 = Math.min(np, j0 + T); j < j1; j++) out[j * rows + r] = dst[r * np + j];
        }
    }

    /**
     * dst[o + j] = x[xo + ih*W + iw] (0 outside) for output pixels p0 + j, j < np, of kernel tap (kh, kw): walked one
     * output row at a time, where ih is fixed and the in-range ow form one interval (a plain copy at stride 1).
     */
    private static void gatherRow(float[] x, int xo, Conv2d.Dims d, Conv2dSpec s, int kh, int kw, int p0, int np,
                                  float[] dst, int o) {
        int H = d.H(), W = d.W(), OW = d.OW(), st = s.stride();
        int oh = p0 / OW, ow = p0 - oh * OW;
        for (int j = 0; j < np; ) {
            int run = Math.min(OW - ow, np - j), ih = oh * st + kh - s.padTop();
            if (ih < 0 || ih >= H) {
                Arrays.fill(dst, o + j, o + j + run, 0f);
            } else {
                int off = kw - s.padLeft();   // iw = (ow + t)*st + off, valid for lo <= t < hi
                int lo = Math.max(0, Math.ceilDiv(-off - ow * st, st)), hi = Math.min(run, Math.ceilDiv(W - off - ow * st, st));
                if (hi < lo) hi = lo;
                Arrays.fill(dst, o + j, o + j + lo, 0f);
                int src = xo + ih * W + ow * st + off;
                if (st == 1) System.arraycopy(x, src + lo, dst, o + j + lo, hi - lo);
                else for (int t = lo; t < hi; t++) dst[o + j + t] = x[src + t * st];
                Arrays.fill(dst, o + j + hi, o + j + run, 0f);
            }
            j += run;
            ow = 0;
            oh++;
        }
    }

    /** The adjoint of {@link #gatherRow} over all P output pixels: x[xo + ih*W + iw] += src[o + p]. */
    private static void scatterRow(float[] x, int xo, Conv2d.Dims d, Conv2dSpec s, int kh, int kw, float[] src, int o) {
        int H = d.H(), W = d.W(), OW = d.OW(), st = s.stride(), off = kw - s.padLeft();
        int lo = Math.max(0, Math.ceilDiv(-off, st)), hi = Math.min(OW, Math.ceilDiv(W - off, st));
        for (int oh = 0; oh < d.OH(); oh++) {
            int ih = oh * st + kh - s.padTop();
            if (ih < 0 || ih >= H) continue;
            int dstRow = xo + ih * W + off, srcRow = o + oh * OW;
            if (st == 1) for (int ow = lo; ow < hi; ow++) x[dstRow + ow] += src[srcRow + ow];
            else for (int ow = lo; ow < hi; ow++) x[dstRow + ow * st] += src[srcRow + ow];
        }
    }

    private static int ceilDiv(int a, int b) { return (a + b - 1) / b; }
}
