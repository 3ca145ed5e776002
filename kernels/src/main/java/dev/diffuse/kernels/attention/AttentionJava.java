package dev.diffuse.kernels.attention;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.diffuse.kernels.linear.ArrayGemm;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Java implementations of {@link Attention}.
 * <ul>
 *   <li>{@link #referenceForward} / {@link #referenceBackward}: the spec, in double, on arrays, with the N x N
 *       score matrix materialised (scores, softmax, matmul) per (batch, head).</li>
 *   <li>{@link #forward} / {@link #backward}: the Java device path, float, one parallel chunk per (batch, head):
 *       the head's Q, K, V, dO are copied into heap arrays and the N x N score matrix is materialised per chunk
 *       (N <= 196 in the U-Nets: 150 KB), so every product is a register-blocked {@link ArrayGemm} call; the
 *       backward recomputes P from L like the OpenCL one. Each output is one fixed-order sum (deterministic).</li>
 * </ul>
 */
final class AttentionJava {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private AttentionJava() {}

    // ------------------------------------------------------------------ double reference (materialised)

    /** P (bh, n, n) = softmax rows of scale Q K^T; also writes o and lse. Arrays are (bh, n, d) / (bh, n). */
    static double[] referenceForward(double[] o, double[] lse, double[] q, double[] k, double[] v, int bh, int n, int d, double scale) {
        double[] p = new double[bh * n * n];
        for (int h = 0; h < bh; h++) {
            int b = h * n * d, pb = h * n * n;
            for (int i = 0; i < n; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int e = 0; e < d; e++) s += q[b + i * d + e] * k[b + j * d + e];
                    p[pb + i * n + j] = s * scale;
                    max = Math.max(max, s * scale);
                }
                double sum = 0;
                for (int j = 0; j < n; j++) sum += Math.exp(p[pb + i * n + j] - max);
                lse[h * n + i] = max + Math.log(sum);
                for (int j = 0; j < n; j++) p[pb + i * n + j] = Math.exp(p[pb + i * n + j] - lse[h * n + i]);
            }
            for (int i = 0; i < n; i++)
                for (int e = 0; e < d; e++) {
                    double acc = 0;
                    for (int j = 0; j < n; j++) acc += p[pb + i * n + j] * v[b + j * d + e];
                    o[b + i * d + e] = acc;
                }
        }
        return p;
    }

    /** dP = dO V^T, dS = P (dP - rowsum(P dP)), dQ = scale dS K, dK = scale dS^T Q, dV = P^T dO; writes dq, dk, dv. */
    static void referenceBackward(double[] dq, double[] dk, double[] dv, double[] dO, double[] q, double[] k, double[] v,
                                  int bh, int n, int d, double scale) {
        double[] o = new double[q.length], lse = new double[bh * n];
        double[] p = referenceForward(o, lse, q, k, v, bh, n, d, scale);
        java.util.Arrays.fill(dq, 0);
        java.util.Arrays.fill(dk, 0);
        java.util.Arrays.fill(dv, 0);
        double[] ds = new double[n * n];
        for (int h = 0; h < bh; h++) {
            int b = h * n * d, pb = h * n * n;
            for (int i = 0; i < n; i++) {
                double rs = 0;
                for (int j = 0; j < n; j++) {
                    double dp = 0;
                    for (int e = 0; e < d; e++) dp += dO[b + i * d + e] * v[b + j * d + e];
                    ds[i * n + j] = dp;
                    rs += p[pb + i * n + j] * dp;
                }
                for (int j = 0; j < n; j++) ds[i * n + j] = p[pb + i * n + j] * (ds[i * n + j] - rs);
            }
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    for (int e = 0; e < d; e++) {
                        dq[b + i * d + e] += scale * ds[i * n + j] * k[b + j * d + e];
                        dk[b + j * d + e] += scale * ds[i * n + j] * q[b + i * d + e];
                        dv[b + j * d + e] += p[pb + i * n + j] * dO[b + i * d + e];
                    }
        }
    }

    // ------------------------------------------------------------------ Java device path (float)

    /** Copies n x d floats of (b, h) slice {@code off} into a heap array. */
    private static float[] load(MemorySegment s, int off, int len) {
        float[] a = new float[len];
        MemorySegment.copy(s, F, 4L * off, a, 0, len);
        return a;
    }

    /** t (cols x rows) = a (rows x cols) transposed. */
    private static float[] transposed(float[] a, int rows, int cols) {
        float[] t = new float[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
        return t;
    }

    /**
     * One chunk per (batch, head), all in heap arrays: S = Q K^T (n x n, one GEMM), row softmax with the running
     * max, O = (E V) / rowsum(E) with E_ij = exp(scale S_ij - max_i) (one GEMM; dividing after the sum keeps O
     * exactly normalised, which the backward's delta = dO . O relies on at large scores);
     * lse_i = max_i + log sum_j E_ij.
     */
    static void forward(JavaDevice dev, Tensor o, Tensor lse, Tensor q, Tensor k, Tensor v, float scale) {
        int bh = q.dim(0) * q.dim(1), n = q.dim(2), d = q.dim(3), nd = n * d;
        MemorySegment os = o.segment(), ls = lse.segment(), qs = q.segment(), ks = k.segment(), vs = v.segment();
        dev.parallelFor(bh, h -> {
            int b = h * nd;
            float[] qa = load(qs, b, nd), kt = transposed(load(ks, b, nd), n, d), va = load(vs, b, nd);
            float[] p = new float[n * n], oa = new float[nd], la = new float[n];
            ArrayGemm.gemm(n, n, d, qa, 0, d, kt, 0, n, p, 0, n);
            float[] sum = new float[n];
            softmaxRows(p, la, n, scale, sum);
            ArrayGemm.gemm(n, d, n, p, 0, n, va, 0, d, oa, 0, d);
            for (int i = 0; i < n; i++)
                for (int e = 0; e < d; e++) oa[i * d + e] /= sum[i];
            MemorySegment.copy(oa, 0, os, F, 4L * b, nd);
            MemorySegment.copy(la, 0, ls, F, 4L * h * n, n);
        });
    }

    /** p holds S = Q K^T (n x n); replaces it by E_ij = exp(scale S_ij - max_i), writes sum_j E_ij and lse_i. */
    private static void softmaxRows(float[] p, float[] lse, int n, float scale, float[] sums) {
        for (int i = 0, r = 0; i < n; i++, r += n) {
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) max = Math.max(max, scale * p[r + j]);
            float sum = 0f;
            for (int j = 0; j < n; j++) {
                float e = (float) Math.exp(scale * p[r + j] - max);
                p[r + j] = e;
                sum += e;
            }
            sums[i] = sum;
            lse[i] = max + (float) Math.log(sum);
        }
    }

    /**
     * One chunk per (batch, head): P recomputed from lse (S = Q K^T, one GEMM), dP = dO V^T, delta_i = dO_i . O_i,
     * dS = P (dP - delta), then dQ = scale dS K, dK = scale dS^T Q, dV = P^T dO (three GEMMs).
     */
    static void backward(JavaDevice dev, Tensor dq, Tensor dk, Tensor dv, Tensor dO, Tensor q, Tensor k, Tensor v,
                         Tensor o, Tensor lse, Tensor delta, float scale) {
        int bh = q.dim(0) * q.dim(1), n = q.dim(2), d = q.dim(3), nd = n * d;
        MemorySegment dqs = dq.segment(), dks = dk.segment(), dvs = dv.segment(), dos = dO.segment(), qs = q.segment(),
                ks = k.segment(), vs = v.segment(), os = o.segment(), ls = lse.segment(), des = delta.segment();
        dev.parallelFor(bh, h -> {
            int b = h * nd;
            float[] qa = load(qs, b, nd), ka = load(ks, b, nd), doa = load(dos, b, nd), oa = load(os, b, nd);
            float[] la = load(ls, h * n, n), de = new float[n];
            for (int i = 0; i < n; i++) {
                float s = 0f;
                for (int e = 0; e < d; e++) s = Math.fma(doa[i * d + e], oa[i * d + e], s);
                de[i] = s;
            }
            float[] p = new float[n * n], dp = new float[n * n];
            ArrayGemm.gemm(n, n, d, qa, 0, d, transposed(ka, n, d), 0, n, p, 0, n);
            for (int i = 0, r = 0; i < n; i++, r += n) // P_ij = exp(scale S_ij - lse_i)
                for (int j = 0; j < n; j++) p[r + j] = (float) Math.exp(scale * p[r + j] - la[i]);
            ArrayGemm.gemm(n, n, d, doa, 0, d, transposed(load(vs, b, nd), n, d), 0, n, dp, 0, n);
            // dp becomes scale dS; pT = P^T, dsT = scale dS^T
            float[] pT = new float[n * n], dsT = new float[n * n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) {
                    float pij = p[i * n + j], ds = scale * pij * (dp[i * n + j] - de[i]);
                    dp[i * n + j] = ds;
                    pT[j * n + i] = pij;
                    dsT[j * n + i] = ds;
                }
            float[] gq = new float[nd], gk = new float[nd], gv = new float[nd];
            ArrayGemm.gemm(n, d, n, dp, 0, n, ka, 0, d, gq, 0, d);
            ArrayGemm.gemm(n, d, n, dsT, 0, n, qa, 0, d, gk, 0, d);
            ArrayGemm.gemm(n, d, n, pT, 0, n, doa, 0, d, gv, 0, d);
            MemorySegment.copy(gq, 0, dqs, F, 4L * b, nd);
            MemorySegment.copy(gk, 0, dks, F, 4L * b, nd);
            MemorySegment.copy(gv, 0, dvs, F, 4L * b, nd);
            MemorySegment.copy(de, 0, des, F, 4L * h * n, n);
        });
    }

    /** toHeads: out (B, heads, N, hd) from in (B, N, heads*hd); else out (B, N, heads*hd) from in (B, heads, N, hd). */
    static void transpose(JavaDevice dev, Tensor out, Tensor in, int b, int heads, int n, int hd, boolean toHeads) {
        MemorySegment os = out.segment(), is = in.segment();
        dev.parallelFor(b * heads, bhIdx -> {
            int bb = bhIdx / heads, h = bhIdx % heads;
            for (int t = 0; t < n; t++)
                for (int e = 0; e < hd; e++) {
                    long headIdx = ((long) bhIdx * n + t) * hd + e, tokIdx = ((long) bb * n + t) * heads * hd + (long) h * hd + e;
                    if (toHeads) os.setAtIndex(F, headIdx, is.getAtIndex(F, tokIdx));
                    else os.setAtIndex(F, tokIdx, is.getAtIndex(F, headIdx));
                }
        });
    }

    /** out (batch, cols, rows) from in (batch, rows, cols); each matrix goes through a heap array. */
    static void batchedTranspose(JavaDevice dev, Tensor out, Tensor in, int batch, int rows, int cols) {
        MemorySegment os = out.segment(), is = in.segment();
        int len = rows * cols;
        dev.parallelFor(batch, b -> MemorySegment.copy(transposed(load(is, b * len, len), rows, cols), 0, os, F, 4L * b * len, len));
    }
}
