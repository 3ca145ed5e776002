/*
 * attention.cl: scaled dot-product attention core, flash-attention style (no N x N matrix in global memory).
 *
 * Layout: Q, K, V, O, dQ, dK, dV are (BH, N, D) contiguous (BH = batch * heads); L (logsumexp) and DELTA are
 * (BH, N). Forward: S = scale Q K^T, L = logsumexp_rows(S), O = exp(S - L) V. Backward (flash-attention-2):
 * P = exp(S - L), dV = P^T dO, dP = dO V^T, delta_i = sum_d dO_id O_id, dS = P (dP - delta),
 * dQ = scale dS K, dK = scale dS^T Q.
 *
 * Kernels (2-D launches, work-group (16, 16): tx = local id 0, ty = local id 1; group id 1 = bh):
 *   attn_forward  work-group (16, TY); group id 0 = query tile of BR = TY RM rows. Q tile in local memory;
 *                 loops over key tiles of BC = 16 CN rows (K then V through one local buffer); online softmax with a running row max m
 *                 and per-thread partial row sums l (rescaled by exp(m_old - m_new)), reduced in fixed order at
 *                 the end. Thread (tx, ty) owns score rows ty + TY i, columns tx + 16 j, output columns tx + 16 j.
 *   attn_forward_v4  the same with float4 local reads, for DPAD % 64 == 0 (see its comment).
 *   attn_tokens_to_heads / attn_heads_to_tokens  1-D: (B, N, HEADS*D) <-> (B, HEADS, N, D).
 *   attn_transpose  batched 2-D transpose through 32 x 32 local tiles: (B, HEADS*D, N) <-> (B, HEADS, N, D).
 * In attention_backward.cl:
 *   attn_delta    1-D, one work-item per row: DELTA = rowsum(dO * O).
 *   attn_bwd_kv   group id 0 = key tile of BC keys; K, V tile resident in local memory; loops over all query tiles
 *                 of BR rows streaming Q, dO in D-chunks of DC columns; accumulates dK, dV in registers (thread
 *                 owns keys ty + 16 i, columns tx + 16 j). Writes dK, dV.
 *   attn_bwd_q    group id 0 = query tile of BR rows; Q, dO tile resident; loops over all key tiles streaming K, V
 *                 in D-chunks; accumulates dQ in registers. Writes dQ.
 * All sums run in a fixed order (no atomics), so results are bit-identical run to run.
 *
 * Common defines and the tile loader: attention_common.cl.
 * Defines (set by AttentionCl): HEAD_DIM = D (any 1..256); DPAD = D rounded up to a multiple of 16 (of DC when
 * D > DC); TY (forward work-group rows, default 16); RM, CN (forward tile multipliers); BR, BC (backward tiles, multiples of 16); DC (backward D-chunk,
 * divides DPAD). Local memory stays under 48 KB for every configuration AttentionCl picks.
 */
// @include dev/diffuse/kernels/attention_common.cl

#define FBR (TY * RM)
#define FBC (T * CN)

__kernel __attribute__((reqd_work_group_size(T, TY, 1)))
void attn_forward(__global float* O, __global float* L, __global const float* Q, __global const float* K,
                  __global const float* V, const int n, const float scale) {
    __local float Qs[FBR * DP1];
    __local float KVs[FBC * DP1];
    __local float Ps[FBR * (FBC + 1)];
    __local float red[FBR * T];
    const int tx = get_local_id(0), ty = get_local_id(1), tid = ty * T + tx;
    const int q0 = get_group_id(0) * FBR, bh = get_group_id(1);
    const size_t base = (size_t)bh * n * HEAD_DIM;
    Q += base; K += base; V += base; O += base;

    load_tile(Qs, DP1, Q, q0, FBR, 0, DPAD, n, tid);
    float o[RM][DJ], m[RM], l[RM];
    #pragma unroll
    for (int i = 0; i < RM; i++) {
        m[i] = -INFINITY; l[i] = 0.0f;
        #pragma unroll
        for (int j = 0; j < DJ; j++) o[i][j] = 0.0f;
    }
    for (int k0 = 0; k0 < n; k0 += FBC) {
        barrier(CLK_LOCAL_MEM_FENCE);            /* previous P V product done with KVs, Ps */
        load_tile(KVs, DP1, K, k0, FBC, 0, DPAD, n, tid);
        barrier(CLK_LOCAL_MEM_FENCE);
        float s[RM][CN];
        #pragma unroll
        for (int i = 0; i < RM; i++)
            #pragma unroll
            for (int j = 0; j < CN; j++) s[i][j] = 0.0f;
        for (int d = 0; d < DPAD; d++) {
            float qv[RM], kv[CN];
            #pragma unroll
            for (int i = 0; i < RM; i++) qv[i] = Qs[(ty + TY * i) * DP1 + d];
            #pragma unroll
            for (int j = 0; j < CN; j++) kv[j] = KVs[(tx + T * j) * DP1 + d];
            #pragma unroll
            for (int i = 0; i < RM; i++)
                #pragma unroll
                for (int j = 0; j < CN; j++) s[i][j] = fma(qv[i], kv[j], s[i][j]);
        }
        #pragma unroll
        for (int i = 0; i < RM; i++) {
            float mx = -INFINITY;
            #pragma unroll
            for (int j = 0; j < CN; j++) {
                s[i][j] = (k0 + tx + T * j < n) ? s[i][j] * scale : -INFINITY;
                mx = fmax(mx, s[i][j]);
            }
            red[(ty + TY * i) * T + tx] = mx;
        }
        barrier(CLK_LOCAL_MEM_FENCE);            /* K no longer needed; partial maxima visible */
        load_tile(KVs, DP1, V, k0, FBC, 0, DPAD, n, tid);
        #pragma unroll
        for (int i = 0; i < RM; i++) {
            const int r = ty + TY * i;
            float mt = -INFINITY;
            for (int t = 0; t < T; t++) mt = fmax(mt, red[r * T + t]);
            const float mnew = fmax(m[i], mt);   /* finite: key k0 < n is always valid */
            const float alpha = exp(m[i] - mnew);
            m[i] = mnew;
            float ps = 0.0f;
            #pragma unroll
            for (int j = 0; j < CN; j++) {
                float p = exp(s[i][j] - mnew);
                Ps[r * (FBC + 1) + tx + T * j] = p;
                ps += p;
            }
            l[i] = l[i] * alpha + ps;
            #pragma unroll
            for (int j = 0; j < DJ; j++) o[i][j] *= alpha;
        }
        barrier(CLK_LOCAL_MEM_FENCE);            /* P and V tile ready */
        for (int c = 0; c < FBC; c++) {
            float p[RM];
            #pragma unroll
            for (int i = 0; i < RM; i++) p[i] = Ps[(ty + TY * i) * (FBC + 1) + c];
            #pragma unroll
            for (int j = 0; j < DJ; j++) {
                float v = KVs[c * DP1 + tx + T * j];
                #pragma unroll
                for (int i = 0; i < RM; i++) o[i][j] = fma(p[i], v, o[i][j]);
            }
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    #pragma unroll
    for (int i = 0; i < RM; i++) red[(ty + TY * i) * T + tx] = l[i];
    barrier(CLK_LOCAL_MEM_FENCE);
    #pragma unroll
    for (int i = 0; i < RM; i++) {
        const int r = ty + TY * i, qr = q0 + r;
        float lt = 0.0f;
        for (int t = 0; t < T; t++) lt += red[r * T + t];
        if (qr < n) {
            const float inv = 1.0f / lt;
            #pragma unroll
            for (int j = 0; j < DJ; j++) {
                int d = tx + T * j;
                if (d < HEAD_DIM) O[qr * HEAD_DIM + d] = o[i][j] * inv;
            }
            if (tx == 0) L[(size_t)bh * n + qr] = m[i] + log(lt);
        }
    }
}

/*
 * attn_forward_v4: attn_forward with 128-bit local-memory reads, for DPAD % 64 == 0 (D = 49..64, 113..128,
 * 129..256). Rows of Q, K/V tiles have stride DPAD + 4 floats (16-byte aligned; the float4 stride DPAD/4 + 1
 * is odd, so 8 consecutive rows hit distinct bank groups), P rows stride FBC + 4. S = Q K^T reads one float4 of
 * Q (broadcast) and of K per 4 multiply-adds per pair; P V reads a float4 of P per 4 keys and thread tx owns
 * output float4-columns tx + 16 j, so per 4 keys it issues RM + 4 DPAD/64 float4 reads for 16 RM DPAD/64 FMAs.
 */
#define QS4 (DPAD / 4 + 1)
#define PS4 (FBC / 4 + 1)
#define DJ4 (DPAD / 64)

__kernel __attribute__((reqd_work_group_size(T, TY, 1)))
void attn_forward_v4(__global float* O, __global float* L, __global const float* Q, __global const float* K,
                     __global const float* V, const int n, const float scale) {
    __local float4 Qs[FBR * QS4];
    __local float4 KVs[FBC * QS4];
    __local float4 Ps[FBR * PS4];
    __local float red[FBR * T];
    const int tx = get_local_id(0), ty = get_local_id(1), tid = ty * T + tx;
    const int q0 = get_group_id(0) * FBR, bh = get_group_id(1);
    const size_t base = (size_t)bh * n * HEAD_DIM;
    Q += base; K += base; V += base; O += base;

    load_tile((__local float*)Qs, 4 * QS4, Q, q0, FBR, 0, DPAD, n, tid);
    float4 o[RM][DJ4];
    float m[RM], l[RM];
    #pragma unroll
    for (int i = 0; i < RM; i++) {
        m[i] = -INFINITY; l[i] = 0.0f;
        #pragma unroll
        for (int j = 0; j < DJ4; j++) o[i][j] = (float4)(0.0f);
    }
    for (int k0 = 0; k0 < n; k0 += FBC) {
        barrier(CLK_LOCAL_MEM_FENCE);
        load_tile((__local float*)KVs, 4 * QS4, K, k0, FBC, 0, DPAD, n, tid);
        barrier(CLK_LOCAL_MEM_FENCE);
        float s[RM][CN];
        #pragma unroll
        for (int i = 0; i < RM; i++)
            #pragma unroll
            for (int j = 0; j < CN; j++) s[i][j] = 0.0f;
        for (int d4 = 0; d4 < DPAD / 4; d4++) {
            float4 qv[RM], kv[CN];
            #pragma unroll
            for (int i = 0; i < RM; i++) qv[i] = Qs[(ty + TY * i) * QS4 + d4];
            #pragma unroll
            for (int j = 0; j < CN; j++) kv[j] = KVs[(tx + T * j) * QS4 + d4];
            #pragma unroll
            for (int i = 0; i < RM; i++)
                #pragma unroll
                for (int j = 0; j < CN; j++)
                    s[i][j] = fma(qv[i].w, kv[j].w, fma(qv[i].z, kv[j].z, fma(qv[i].y, kv[j].y, fma(qv[i].x, kv[j].x, s[i][j]))));
        }
        #pragma unroll
        for (int i = 0; i < RM; i++) {
            float mx = -INFINITY;
            #pragma unroll
            for (int j = 0; j < CN; j++) {
                s[i][j] = (k0 + tx + T * j < n) ? s[i][j] * scale : -INFINITY;
                mx = fmax(mx, s[i][j]);
            }
            red[(ty + TY * i) * T + tx] = mx;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        load_tile((__local float*)KVs, 4 * QS4, V, k0, FBC, 0, DPAD, n, tid);
        __local float* pf = (__local float*)Ps;
        #pragma unroll
        for (int i = 0; i < RM; i++) {
            const int r = ty + TY * i;
            float mt = -INFINITY;
            for (int t = 0; t < T; t++) mt = fmax(mt, red[r * T + t]);
            const float mnew = fmax(m[i], mt);
            const float alpha = exp(m[i] - mnew);
            m[i] = mnew;
            float ps = 0.0f;
            #pragma unroll
            for (int j = 0; j < CN; j++) {
                float p = exp(s[i][j] - mnew);
                pf[r * 4 * PS4 + tx + T * j] = p;
                ps += p;
            }
            l[i] = l[i] * alpha + ps;
            #pragma unroll
            for (int j = 0; j < DJ4; j++) o[i][j] *= alpha;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int c4 = 0; c4 < FBC / 4; c4++) {
            float4 p[RM];
            #pragma unroll
            for (int i = 0; i < RM; i++) p[i] = Ps[(ty + TY * i) * PS4 + c4];
            #pragma unroll
            for (int j = 0; j < DJ4; j++) {
                const float4 v0 = KVs[(4 * c4) * QS4 + tx + T * j], v1 = KVs[(4 * c4 + 1) * QS4 + tx + T * j];
                const float4 v2 = KVs[(4 * c4 + 2) * QS4 + tx + T * j], v3 = KVs[(4 * c4 + 3) * QS4 + tx + T * j];
                #pragma unroll
                for (int i = 0; i < RM; i++)
                    o[i][j] = fma((float4)(p[i].w), v3, fma((float4)(p[i].z), v2, fma((float4)(p[i].y), v1, fma((float4)(p[i].x), v0, o[i][j]))));
            }
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    #pragma unroll
    for (int i = 0; i < RM; i++) red[(ty + TY * i) * T + tx] = l[i];
    barrier(CLK_LOCAL_MEM_FENCE);
    #pragma unroll
    for (int i = 0; i < RM; i++) {
        const int r = ty + TY * i, qr = q0 + r;
        float lt = 0.0f;
        for (int t = 0; t < T; t++) lt += red[r * T + t];
        if (qr < n) {
            const float inv = 1.0f / lt;
            #pragma unroll
            for (int j = 0; j < DJ4; j++) {
                const int d = 4 * (tx + T * j);
                const float4 v = o[i][j] * inv;
                if (d < HEAD_DIM) O[qr * HEAD_DIM + d] = v.x;
                if (d + 1 < HEAD_DIM) O[qr * HEAD_DIM + d + 1] = v.y;
                if (d + 2 < HEAD_DIM) O[qr * HEAD_DIM + d + 2] = v.z;
                if (d + 3 < HEAD_DIM) O[qr * HEAD_DIM + d + 3] = v.w;
            }
            if (tx == 0) L[(size_t)bh * n + qr] = m[i] + log(lt);
        }
    }
}

/* y[b, h, t, d] = x[b, t, h * hd + d]; one work-item per element of y (reads runs of hd, writes coalesced) */
__kernel void attn_tokens_to_heads(__global float* y, __global const float* x, const int heads, const int n,
                                   const int hd, const int total) {
    const int e = get_global_id(0);
    if (e >= total) return;
    const int d = e % hd, t = (e / hd) % n, h = (e / (hd * n)) % heads, b = e / (hd * n * heads);
    y[e] = x[((size_t)b * n + t) * heads * hd + h * hd + d];
}

/* x[b, t, h * hd + d] = y[b, h, t, d]; one work-item per element of x */
__kernel void attn_heads_to_tokens(__global float* x, __global const float* y, const int heads, const int n,
                                   const int hd, const int total) {
    const int e = get_global_id(0);
    if (e >= total) return;
    const int c = e % (heads * hd), t = (e / (heads * hd)) % n, b = e / (heads * hd * n);
    const int h = c / hd, d = c - h * hd;
    x[e] = y[(((size_t)b * heads + h) * n + t) * hd + d];
}

/*
 * out (BATCH, cols, rows) = transpose of each in (BATCH, rows, cols) matrix; group id 2 = batch. A 32 x 32 tile
 * goes through local memory (row stride 33: conflict-free column reads) so global reads and writes are both
 * coalesced. channelsToHeads: in = x (B, C, N) = (B heads, D, N); headsToChannels: in = y (B heads, N, D).
 */
#define TT 32
__kernel __attribute__((reqd_work_group_size(TT, 8, 1)))
void attn_transpose(__global float* out, __global const float* in, const int rows, const int cols) {
    __local float tile[TT * (TT + 1)];
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int c0 = get_group_id(0) * TT, r0 = get_group_id(1) * TT;
    const size_t base = (size_t)get_group_id(2) * rows * cols;
    for (int k = ty; k < TT; k += 8)
        if (r0 + k < rows && c0 + tx < cols) tile[k * (TT + 1) + tx] = in[base + (size_t)(r0 + k) * cols + c0 + tx];
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int k = ty; k < TT; k += 8)
        if (c0 + k < cols && r0 + tx < rows) out[base + (size_t)(c0 + k) * rows + r0 + tx] = tile[tx * (TT + 1) + k];
}
