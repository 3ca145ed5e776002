package dev.diffuse.kernels.conv2d;

import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Fast Java path of {@link Conv2d}: each pass is a GEMM on a small im2col block held in a per-chunk heap array
 * (never the whole batch), with a Vector-API register-blocked kernel ({@link #gemm}). Work is split into chunks that
 * own disjoint outputs, so no chunk waits on another and the result does not depend on scheduling.
 * <ul>
 *   <li>forward, chunk (n, pixel block): y[n,:,P-block] = b + w (Cout x CinKK) . col (CinKK x P-block);</li>
 *   <li>dx, chunk (n, ci block): dcol = w^T[ci block rows] (rows x Cout) . dy[n] (Cout x P), then col2im adds dcol into
 *       dx[n, ci block] (the rows of a ci block only ever land in those channels);</li>
 *   <li>dw, chunk (ci block, co block): dw[co block, ci block] += sum_n dy[n, co block] (P) . colT (P x ci-block KK).</li>
 * </ul>
 */
final class Conv2dJavaFast {
    private static final VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;
    private static final int V = SP.length();
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
            gemm(Cout, np, kc, wa, 0, kc, col, 0, np, ya, yo, P);
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
            gemm(rows, P, Cout, wt, ci0 * KK * Cout, Cout, dya, n * Cout * P, P, dcol, 0, P);
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
                gemm(mo, nk, P, dya, (n * Cout + co0) * P, P, colT, 0, nk, part, 0, nk);
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

    /**
     * c[co + i*ldc + j] += sum_k a[ao + i*lda + k] * b[bo + k*ldb + j] for i < M, j < N (row-major, C += A B).
     * Register block: 4 rows x 2 vectors of columns (8 accumulators); a column panel of B stays in cache while
     * every row block passes over it. Fixed summation order (k ascending) per element.
     */
    static void gemm(int M, int N, int K, float[] a, int ao, int lda, float[] b, int bo, int ldb, float[] c, int co, int ldc) {
        int j = 0;
        for (; j + 2 * V <= N; j += 2 * V) {
            int i = 0;
            for (; i + 4 <= M; i += 4) {
                int c0 = co + i * ldc + j, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
                int a0 = ao + i * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
                FloatVector r00 = FloatVector.fromArray(SP, c, c0), r01 = FloatVector.fromArray(SP, c, c0 + V);
                FloatVector r10 = FloatVector.fromArray(SP, c, c1), r11 = FloatVector.fromArray(SP, c, c1 + V);
                FloatVector r20 = FloatVector.fromArray(SP, c, c2), r21 = FloatVector.fromArray(SP, c, c2 + V);
                FloatVector r30 = FloatVector.fromArray(SP, c, c3), r31 = FloatVector.fromArray(SP, c, c3 + V);
                for (int k = 0, bk = bo + j; k < K; k++, bk += ldb) {
                    FloatVector b0 = FloatVector.fromArray(SP, b, bk), b1 = FloatVector.fromArray(SP, b, bk + V);
                    FloatVector s0 = FloatVector.broadcast(SP, a[a0 + k]);
                    r00 = b0.fma(s0, r00);
                    r01 = b1.fma(s0, r01);
                    FloatVector s1 = FloatVector.broadcast(SP, a[a1 + k]);
                    r10 = b0.fma(s1, r10);
                    r11 = b1.fma(s1, r11);
                    FloatVector s2 = FloatVector.broadcast(SP, a[a2 + k]);
                    r20 = b0.fma(s2, r20);
                    r21 = b1.fma(s2, r21);
                    FloatVector s3 = FloatVector.broadcast(SP, a[a3 + k]);
                    r30 = b0.fma(s3, r30);
                    r31 = b1.fma(s3, r31);
                }
                r00.intoArray(c, c0); r01.intoArray(c, c0 + V);
                r10.intoArray(c, c1); r11.intoArray(c, c1 + V);
                r20.intoArray(c, c2); r21.intoArray(c, c2 + V);
                r30.intoArray(c, c3); r31.intoArray(c, c3 + V);
            }
            for (; i < M; i++) {
                int c0 = co + i * ldc + j, a0 = ao + i * lda;
                FloatVector r0 = FloatVector.fromArray(SP, c, c0), r1 = FloatVector.fromArray(SP, c, c0 + V);
                for (int k = 0, bk = bo + j; k < K; k++, bk += ldb) {
                    FloatVector s0 = FloatVector.broadcast(SP, a[a0 + k]);
                    r0 = FloatVector.fromArray(SP, b, bk).fma(s0, r0);
                    r1 = FloatVector.fromArray(SP, b, bk + V).fma(s0, r1);
                }
                r0.intoArray(c, c0);
                r1.intoArray(c, c0 + V);
            }
        }
        for (; j + V <= N; j += V)
            for (int i = 0; i < M; i++) {
                int c0 = co + i * ldc + j, a0 = ao + i * lda;
                FloatVector r0 = FloatVector.fromArray(SP, c, c0);
                for (int k = 0, bk = bo + j; k < K; k++, bk += ldb)
                    r0 = FloatVector.fromArray(SP, b, bk).fma(FloatVector.broadcast(SP, a[a0 + k]), r0);
                r0.intoArray(c, c0);
            }
        for (; j < N; j++)
            for (int i = 0; i < M; i++) {
                int a0 = ao + i * lda;
                float sum = c[co + i * ldc + j];
                for (int k = 0, bk = bo + j; k < K; k++, bk += ldb) sum = Math.fma(a[a0 + k], b[bk], sum);
                c[co + i * ldc + j] = sum;
            }
    }

    private static int ceilDiv(int a, int b) { return (a + b - 1) / b; }
}
