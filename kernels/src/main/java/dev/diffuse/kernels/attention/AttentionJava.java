package dev.diffuse.kernels.attention;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Java implementations of {@link Attention}.
 * <ul>
 *   <li>{@link #referenceForward} / {@link #referenceBackward}: the spec, in double, on arrays, with the N x N
 *       score matrix materialised (scores, softmax, matmul) per (batch, head).</li>
 *   <li>{@link #forward} / {@link #backward}: the Java device path, float, parallel over (batch * head, row block);
 *       one score row at a time (never N x N), same recompute-from-L scheme as the OpenCL backward; dot products
 *       and row updates use the Vector API with lanes summed in a fixed order.</li>
 * </ul>
 */
final class AttentionJava {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Rows per parallel chunk. */
    static final int ROWS = 16;

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

    private static final VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder NO = ByteOrder.nativeOrder();

    /** a[ia..ia+d) . b[ib..ib+d): lane-wise FMA, then the lanes summed in index order (deterministic). */
    static float dot(MemorySegment a, int ia, MemorySegment b, int ib, int d) {
        int e = 0, len = SP.length();
        float s = 0f;
        if (d >= len) {
            FloatVector acc = FloatVector.zero(SP);
            for (; e <= d - len; e += len)
                acc = FloatVector.fromMemorySegment(SP, a, 4L * (ia + e), NO).fma(FloatVector.fromMemorySegment(SP, b, 4L * (ib + e), NO), acc);
            for (int t = 0; t < len; t++) s += acc.lane(t);
        }
        for (; e < d; e++) s += a.getAtIndex(F, ia + e) * b.getAtIndex(F, ib + e);
        return s;
    }

    /** acc[0..d) += p * x[ix..ix+d). */
    static void axpy(float[] acc, float p, MemorySegment x, int ix, int d) {
        int e = 0, len = SP.length();
        FloatVector pv = FloatVector.broadcast(SP, p);
        for (; e <= d - len; e += len)
            FloatVector.fromMemorySegment(SP, x, 4L * (ix + e), NO).fma(pv, FloatVector.fromArray(SP, acc, e)).intoArray(acc, e);
        for (; e < d; e++) acc[e] += p * x.getAtIndex(F, ix + e);
    }

    static void forward(JavaDevice dev, Tensor o, Tensor lse, Tensor q, Tensor k, Tensor v, float scale) {
        int bh = q.dim(0) * q.dim(1), n = q.dim(2), d = q.dim(3), blocks = (n + ROWS - 1) / ROWS;
        MemorySegment os = o.segment(), ls = lse.segment(), qs = q.segment(), ks = k.segment(), vs = v.segment();
        dev.parallelFor(bh * blocks, chunk -> {
            int h = chunk / blocks, i0 = chunk % blocks * ROWS, b = h * n * d;
            float[] s = new float[n], acc = new float[d];
            for (int i = i0; i < Math.min(n, i0 + ROWS); i++) {
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    s[j] = scale * dot(qs, b + i * d, ks, b + j * d, d);
                    max = Math.max(max, s[j]);
                }
                float sum = 0f;
                java.util.Arrays.fill(acc, 0f);
                for (int j = 0; j < n; j++) {
                    float p = (float) Math.exp(s[j] - max);
                    sum += p;
                    axpy(acc, p, vs, b + j * d, d);
                }
                for (int e = 0; e < d; e++) os.setAtIndex(F, b + i * d + e, acc[e] / sum);
                ls.setAtIndex(F, h * n + i, max + (float) Math.log(sum));
            }
        });
    }

    static void backward(JavaDevice dev, Tensor dq, Tensor dk, Tensor dv, Tensor dO, Tensor q, Tensor k, Tensor v,
                         Tensor o, Tensor lse, Tensor delta, float scale) {
        int bh = q.dim(0) * q.dim(1), n = q.dim(2), d = q.dim(3), blocks = (n + ROWS - 1) / ROWS;
        MemorySegment dqs = dq.segment(), dks = dk.segment(), dvs = dv.segment(), dos = dO.segment(), qs = q.segment(),
                ks = k.segment(), vs = v.segment(), os = o.segment(), ls = lse.segment(), des = delta.segment();
        dev.parallelFor(bh * blocks, chunk -> {
            int h = chunk / blocks, i0 = chunk % blocks * ROWS, b = h * n * d;
            for (int i = i0; i < Math.min(n, i0 + ROWS); i++)
                des.setAtIndex(F, h * n + i, dot(dos, b + i * d, os, b + i * d, d));
        });
        // dQ rows: dq_i = scale sum_j P_ij (dP_ij - delta_i) k_j
        dev.parallelFor(bh * blocks, chunk -> {
            int h = chunk / blocks, i0 = chunk % blocks * ROWS, b = h * n * d;
            float[] acc = new float[d];
            for (int i = i0; i < Math.min(n, i0 + ROWS); i++) {
                float li = ls.getAtIndex(F, h * n + i), di = des.getAtIndex(F, h * n + i);
                java.util.Arrays.fill(acc, 0f);
                for (int j = 0; j < n; j++) {
                    float p = (float) Math.exp(scale * dot(qs, b + i * d, ks, b + j * d, d) - li);
                    float ds = p * (dot(dos, b + i * d, vs, b + j * d, d) - di);
                    axpy(acc, ds, ks, b + j * d, d);
                }
                for (int e = 0; e < d; e++) dqs.setAtIndex(F, b + i * d + e, scale * acc[e]);
            }
        });
        // dK, dV rows: dk_j = scale sum_i dS_ij q_i, dv_j = sum_i P_ij do_i
        dev.parallelFor(bh * blocks, chunk -> {
            int h = chunk / blocks, j0 = chunk % blocks * ROWS, b = h * n * d;
            float[] ak = new float[d], av = new float[d];
            for (int j = j0; j < Math.min(n, j0 + ROWS); j++) {
                java.util.Arrays.fill(ak, 0f);
                java.util.Arrays.fill(av, 0f);
                for (int i = 0; i < n; i++) {
                    float p = (float) Math.exp(scale * dot(qs, b + i * d, ks, b + j * d, d) - ls.getAtIndex(F, h * n + i));
                    float ds = p * (dot(dos, b + i * d, vs, b + j * d, d) - des.getAtIndex(F, h * n + i));
                    axpy(ak, ds, qs, b + i * d, d);
                    axpy(av, p, dos, b + i * d, d);
                }
                for (int e = 0; e < d; e++) {
                    dks.setAtIndex(F, b + j * d + e, scale * ak[e]);
                    dvs.setAtIndex(F, b + j * d + e, av[e]);
                }
            }
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

    /** out (batch, cols, rows) from in (batch, rows, cols). */
    static void batchedTranspose(JavaDevice dev, Tensor out, Tensor in, int batch, int rows, int cols) {
        MemorySegment os = out.segment(), is = in.segment();
        dev.parallelFor(batch, b -> {
            long base = (long) b * rows * cols;
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++) os.setAtIndex(F, base + (long) c * rows + r, is.getAtIndex(F, base + (long) r * cols + c));
        });
    }
}
