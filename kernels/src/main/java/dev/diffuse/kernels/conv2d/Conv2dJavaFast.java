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
 *   <li>forward, chunk (n, pixel block): y[n,:,P-block] = b + w (Cout x CinKK) . col (CinKK x P-block);</li>
 *   <li>dx, chunk (n, ci block): dcol = w^T[ci block rows] (rows x Cout) . dy[n] (Cout x P), then col2im adds dcol into
 *       dx[n, ci block] (the rows of a ci block only ever land in those channels);</li>
 *   <li>dw, chunk (ci block, co block): dw[co block, ci block] += sum_n dy[n, co block] (P) . colT (P x ci-block KK).</li>
 * </ul>
 */
final class Conv2dJavaFast {
    private static final int PBLOCK = 128; // output pixels per forward chunk

    private Conv2dJavaFast() {}

    static void forward(JavaDevice dev, Tensor y, Tensor x, Tensor w, Tensor b, Conv2d.Dims d, Conv2dSpec s) {
        float[] xa = x.toArray(), wa = w.toArray(), ba = b.toArray();
        int P = d.p(), Cout = d.Cout(), kc = d.Cin() * d.kk(), pBlocks = (P + PBLOCK - 1) / PBLOCK;
        float[] ya = new float[d.B() * Cout * P];
        dev.parallelFor(d.B() * pBlocks, c -> {
            int n = c / pBlocks, p0 = (c % pBlocks) * PBLOCK, np = Math.min(PBLOCK, P - p0);
            float[] col = new float[kc * np];
            im2col(xa, n, d, s, 0, d.Cin(), p0, np, col, false);
            int yo = n * Cout * P + p0;
            for (int co = 0; co < Cout; co++) Arrays.fill(ya, yo + co * P, yo + co * P + np, ba[co]);
            ArrayGemm.gemm(Cout, np, kc, wa, 0, kc, col, 0, np, ya, yo, P);
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
        int perImage = Math.min(Cin, Math.max(1, ceilDiv(2 * dev.threads(), d.B())));
        int ciPer = ceilDiv(Cin, perImage), ciBlocks = ceilDiv(Cin, ciPer);
        int st = s.stride(), pt = s.padTop(), pl = s.padLeft();
        dev.parallelFor(d.B() * ciBlocks, c -> {
            int n = c / ciBlocks, ci0 = (c % ciBlocks) * ciPer, ci1 = Math.min(Cin, ci0 + ciPer), rows = (ci1 - ci0) * KK;
            float[] dcol = new float[rows * P];
            ArrayGemm.gemm(rows, P, Cout, wt, ci0 * KK * Cout, Cout, dya, n * Cout * P, P, dcol, 0, P);
            // col2im: dcol row (ci,kh,kw), column (oh,ow) belongs to dx[n, ci, oh*s+kh-pt, ow*s+kw-pl]
            for (int ci = ci0; ci < ci1; ci++) {
                int xo = (n * Cin + ci) * HW;
                for (int kh = 0; kh < K; kh++)
                    for (int kw = 0; kw < K; kw++) {
                        int ro = ((ci - ci0) * KK + kh * K + kw) * P;
                        for (int oh = 0; oh < d.OH(); oh++) {
                            int ih = oh * st + kh - pt;
                            if (ih < 0 || ih >= d.H()) continue;
                            for (int ow = 0; ow < d.OW(); ow++) {
                                int iw = ow * st + kw - pl;
                                if (iw >= 0 && iw < d.W()) dxa[xo + ih * d.W() + iw] += dcol[ro + oh * d.OW() + ow];
                            }
                        }
                    }
            }
        });
        return dxa;
    }

    private static void weightGrad(JavaDevice dev, float[] dwa, float[] dya, float[] xa, Conv2d.Dims d, Conv2dSpec s) {
        int Cin = d.Cin(), Cout = d.Cout(), KK = d.kk(), kc = Cin * KK, P = d.p();
        int want = 2 * dev.threads();
        int ciPer = ceilDiv(Cin, Math.min(Cin, want)), ciBlocks = ceilDiv(Cin, ciPer);
        int coSplit = ciBlocks >= want ? 1 : Math.min(ceilDiv(Cout, 4), ceilDiv(want, ciBlocks));
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

    /**
     * col[(ci-ci0,kh,kw), j] = x[n, ci, oh*s+kh-pt, ow*s+kw-pl] (0 outside) for output pixels p0 + j = (oh, ow),
     * j < np; stored row-major (rows x np), or transposed (np x rows) when {@code transposed}.
     */
    private static void im2col(float[] x, int n, Conv2d.Dims d, Conv2dSpec s, int ci0, int ci1, int p0, int np,
                               float[] out, boolean transposed) {
        int K = d.K(), H = d.H(), W = d.W(), OW = d.OW(), st = s.stride(), pt = s.padTop(), pl = s.padLeft();
        int rows = (ci1 - ci0) * K * K;
        for (int ci = ci0; ci < ci1; ci++) {
            int xo = (n * d.Cin() + ci) * H * W;
            for (int kh = 0; kh < K; kh++)
                for (int kw = 0; kw < K; kw++) {
                    int row = ((ci - ci0) * K + kh) * K + kw;
                    int oh = p0 / OW, ow = p0 - oh * OW;
                    for (int j = 0; j < np; j++) {
                        int ih = oh * st + kh - pt, iw = ow * st + kw - pl;
                        float v = ih >= 0 && ih < H && iw >= 0 && iw < W ? x[xo + ih * W + iw] : 0f;
                        if (transposed) out[j * rows + row] = v;
                        else out[row * np + j] = v;
                        if (++ow == OW) { ow = 0; oh++; }
                    }
                }
        }
    }

    private static int ceilDiv(int a, int b) { return (a + b - 1) / b; }
}
