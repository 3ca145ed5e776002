package dev.diffuse.kernels.linear;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Internal helper of the Java fast paths (conv2d, attention, GEMM): a register-blocked Vector-API GEMM on heap
 * arrays. Not part of the op API: callers copy tiles out of {@code MemorySegment}s first so the inner loops run
 * without per-element bounds checks on off-heap memory.
 */
public final class ArrayGemm {
    private static final VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;
    private static final int V = SP.length();

    private ArrayGemm() {}

    /**
     * c[co + i*ldc + j] += sum_k a[ao + i*lda + k] * b[bo + k*ldb + j] for i < M, j < N (row-major, C += A B).
     * Register block: 4 rows x 2 vectors of columns (8 accumulators); a column panel of B stays in cache while
     * every row block passes over it. K is cut into blocks of {@link #KB} so that panel (KB x 2V floats) fits in L1;
     * C carries the running sum between blocks exactly (a float store and reload), so every element is still one
     * FMA chain in k ascending order: blocking changes speed, not results.
     */
    public static void gemm(int M, int N, int K, float[] a, int ao, int lda, float[] b, int bo, int ldb, float[] c, int co, int ldc) {
        for (int k0 = 0; k0 < K; k0 += KB)
            panel(M, N, Math.min(KB, K - k0), a, ao + k0, lda, b, bo + k0 * ldb, ldb, c, co, ldc);
    }

    /** Rows of op(B) per K block: 128 x 2V floats = 16 KB at AVX-512. */
    static final int KB = 128;

    private static void panel(int M, int N, int K, float[] a, int ao, int lda, float[] b, int bo, int ldb, float[] c, int co, int ldc) {
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
        if (j < N) tail(M, N, K, a, ao, lda, b, bo, ldb, c, co, ldc, j);
    }

    /**
     * Columns j0..N-1 (fewer than 2V): copied into zero-padded 2V-wide panels of B and C and run through the main
     * unmasked kernel (masked Vector-API loads ran ~8x slower here), then copied back. The same FMA chain per
     * element as every other column (results do not depend on where a column falls).
     */
    private static void tail(int M, int N, int K, float[] a, int ao, int lda, float[] b, int bo, int ldb, float[] c,
                             int co, int ldc, int j0) {
        int r = N - j0, w = 2 * V;
        float[] bt = new float[K * w], ct = new float[M * w];
        for (int k = 0; k < K; k++)
            for (int q = 0, src = bo + k * ldb + j0; q < r; q++) bt[k * w + q] = b[src + q];
        for (int i = 0; i < M; i++) System.arraycopy(c, co + i * ldc + j0, ct, i * w, r);
        panel(M, w, K, a, ao, lda, bt, 0, w, ct, 0, w);
        for (int i = 0; i < M; i++) System.arraycopy(ct, i * w, c, co + i * ldc + j0, r);
    }
}
