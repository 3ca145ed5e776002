package dev.diffuse.kernels.attention;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.diffuse.kernels.cpu.AttentionBackward;
import dev.diffuse.kernels.cpu.AttentionForward;
import dev.diffuse.kernels.cpu.Scratch;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Java implementations of {@link Attention}.
 * <ul>
 *   <li>{@link #referenceForward} / {@link #referenceBackward}: the spec, in double, on arrays, with the N x N
 *       score matrix materialised (scores, softmax, matmul) per (batch, head).</li>
 *   <li>{@link #forward} / {@link #backward}: the Java device path on the CPU engine, float: flash-style blocks
 *       with an online softmax ({@link AttentionForward}), the backward recomputing P from L like the OpenCL one
 *       ({@link AttentionBackward}). Each output is one fixed-order sum (deterministic, thread-count independent).</li>
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

    /** Flash-style forward on the CPU engine ({@link AttentionForward}), reading and writing the tensors in place. */
    static void forward(JavaDevice dev, Tensor o, Tensor lse, Tensor q, Tensor k, Tensor v, float scale) {
        AttentionForward.forward(dev, o.segment(), lse.segment(), q.segment(), k.segment(), v.segment(),
                q.dim(0) * q.dim(1), q.dim(2), q.dim(3), scale, false);
    }

    /** {@link Attention#forwardChannels}: the same CPU-engine forward on channel-first blocks; s = (B, heads, N, D). */
    static void forwardChannels(JavaDevice dev, Tensor o, Tensor lse, Tensor q, Tensor k, Tensor v, int[] s, float scale) {
        AttentionForward.forward(dev, o.segment(), lse.segment(), q.segment(), k.segment(), v.segment(), s[0] * s[1],
                s[2], s[3], scale, true);
    }

    /** {@link Attention#backwardChannels}: the CPU-engine backward on channel-first blocks; s = (B, heads, N, D). */
    static void backwardChannels(JavaDevice dev, Tensor dq, Tensor dk, Tensor dv, Tensor dO, Tensor q, Tensor k, Tensor v,
                                 Tensor o, Tensor lse, Tensor delta, int[] s, float scale) {
        AttentionBackward.backward(dev, dq.segment(), dk.segment(), dv.segment(), dO.segment(), q.segment(), k.segment(),
                v.segment(), o.segment(), lse.segment(), delta.segment(), s[0] * s[1], s[2], s[3], scale, true);
    }

    /** Backward on the CPU engine ({@link AttentionBackward}), reading and writing the tensors in place. */
    static void backward(JavaDevice dev, Tensor dq, Tensor dk, Tensor dv, Tensor dO, Tensor q, Tensor k, Tensor v,
                         Tensor o, Tensor lse, Tensor delta, float scale) {
        AttentionBackward.backward(dev, dq.segment(), dk.segment(), dv.segment(), dO.segment(), q.segment(), k.segment(),
                v.segment(), o.segment(), lse.segment(), delta.segment(), q.dim(0) * q.dim(1), q.dim(2), q.dim(3), scale, false);
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

    /**
     * out (batch, cols, rows) from in (batch, rows, cols): each matrix is copied into a reused per-thread heap buffer,
     * transposed in 16 x 16 blocks into a second one, and copied out.
     */
    static void batchedTranspose(JavaDevice dev, Tensor out, Tensor in, int batch, int rows, int cols) {
        MemorySegment os = out.segment(), is = in.segment();
        int len = rows * cols;
        dev.parallelFor(batch, b -> {
            Scratch s = Scratch.get();
            float[] a = s.floats(Scratch.Slot.ROWS, len), t = s.floats(Scratch.Slot.TRANSPOSED, len);
            MemorySegment.copy(is, F, 4L * b * len, a, 0, len);
            for (int r0 = 0; r0 < rows; r0 += 16)
                for (int c0 = 0; c0 < cols; c0 += 16)
                    for (int r = r0, r1 = Math.min(rows, r0 + 16); r < r1; r++)
                        for (int c = c0, c1 = Math.min(cols, c0 + 16); c < c1; c++) t[c * rows + r] = a[r * cols + c];
            MemorySegment.copy(t, 0, os, F, 4L * b * len, len);
        });
    }
}
