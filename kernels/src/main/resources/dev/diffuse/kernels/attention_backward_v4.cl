/*
 * attention_backward_v4.cl: attn_bwd_kv / attn_bwd_q of attention_backward.cl with 128-bit local-memory reads,
 * for DPAD % 64 == 0 and DC % 64 == 0 (the U-Net head dims 64, 128, 256). Same math, tiles and fixed summation
 * structure; per-thread work is unchanged except that thread tx owns output float4-columns tx + 16 j.
 * Local rows have float4 strides X/4 + 1 (odd: 8 consecutive rows hit distinct bank groups). P and dS are stored
 * transposed ([key][query]) in attn_bwd_kv so the dV/dK update reads 4 queries of P per float4.
 * Per 4 steps of the inner loops a thread issues RI + CJ (x2) float4 reads for 8 RI CJ FMAs (S and dP), and
 * 2 KI + 8 DC/64 float4 reads for 32 KI DC/64 FMAs (dV and dK), instead of 4x as many scalar reads.
 */
// @include dev/diffuse/kernels/attention_common.cl

#define RI (BR / T)
#define CJ (BC / T)
#define KI (BC / T)
#define KS4 (DPAD / 4 + 1)
#define QC4 (DC / 4 + 1)
#define DJ4 (DPAD / 64)
#define CJ4 (DC / 64)
/* acc += a.x x0 + a.y x1 + a.z x2 + a.w x3, in that order */
#define ACC4(acc, a, x0, x1, x2, x3) \
    acc = fma((float4)((a).w), x3, fma((float4)((a).z), x2, fma((float4)((a).y), x1, fma((float4)((a).x), x0, acc))))
#define DOT4(acc, a, b) acc = fma((a).w, (b).w, fma((a).z, (b).z, fma((a).y, (b).y, fma((a).x, (b).x, acc))))

static void store4(__global float* row, int d, float4 v) {
    if (d < HEAD_DIM) row[d] = v.x;
    if (d + 1 < HEAD_DIM) row[d + 1] = v.y;
    if (d + 2 < HEAD_DIM) row[d + 2] = v.z;
    if (d + 3 < HEAD_DIM) row[d + 3] = v.w;
}

#define PT4 (BR / 4 + 1)
__kernel __attribute__((reqd_work_group_size(T, T, 1)))
void attn_bwd_kv_v4(__global float* dK, __global float* dV, __global const float* dO, __global const float* Q,
                    __global const float* K, __global const float* V, __global const float* L,
                    __global const float* DELTA, const int n, const float scale) {
    __local float4 Ks[BC * KS4], Vs[BC * KS4];
    __local float4 Qc[BR * QC4], dOc[BR * QC4];
    __local float4 Pt[BC * PT4], dSt[BC * PT4];
    __local float Ls[BR], Ds[BR];
    const int tx = get_local_id(0), ty = get_local_id(1), tid = ty * T + tx;
    const int k0 = get_group_id(0) * BC, bh = get_group_id(1);
    const size_t base = (size_t)bh * n * HEAD_DIM;
    Q += base; K += base; V += base; dO += base; dK += base; dV += base;
    L += (size_t)bh * n; DELTA += (size_t)bh * n;
    __local float* ptf = (__local float*)Pt;
    __local float* dstf = (__local float*)dSt;

    load_tile((__local float*)Ks, 4 * KS4, K, k0, BC, 0, DPAD, n, tid);
    load_tile((__local float*)Vs, 4 * KS4, V, k0, BC, 0, DPAD, n, tid);
    float4 dk[KI][DJ4], dv[KI][DJ4];
    #pragma unroll
    for (int i = 0; i < KI; i++)
        #pragma unroll
        for (int j = 0; j < DJ4; j++) { dk[i][j] = (float4)(0.0f); dv[i][j] = (float4)(0.0f); }

    for (int q0 = 0; q0 < n; q0 += BR) {
        float s[RI][CJ], dp[RI][CJ];
        #pragma unroll
        for (int i = 0; i < RI; i++)
            #pragma unroll
            for (int j = 0; j < CJ; j++) { s[i][j] = 0.0f; dp[i][j] = 0.0f; }
        for (int ch = 0; ch < NCHUNK; ch++) {
            barrier(CLK_LOCAL_MEM_FENCE);
            load_tile((__local float*)Qc, 4 * QC4, Q, q0, BR, ch * DC, DC, n, tid);
            load_tile((__local float*)dOc, 4 * QC4, dO, q0, BR, ch * DC, DC, n, tid);
            if (ch == 0 && tid < BR) {
                Ls[tid] = q0 + tid < n ? L[q0 + tid] : 0.0f;
                Ds[tid] = q0 + tid < n ? DELTA[q0 + tid] : 0.0f;
            }
            barrier(CLK_LOCAL_MEM_FENCE);
            for (int d4 = 0; d4 < DC / 4; d4++) {
                float4 qv[RI], ov[RI], kv[CJ], vv[CJ];
                #pragma unroll
                for (int i = 0; i < RI; i++) { qv[i] = Qc[(ty + T * i) * QC4 + d4]; ov[i] = dOc[(ty + T * i) * QC4 + d4]; }
                #pragma unroll
                for (int j = 0; j < CJ; j++) { kv[j] = Ks[(tx + T * j) * KS4 + ch * (DC / 4) + d4]; vv[j] = Vs[(tx + T * j) * KS4 + ch * (DC / 4) + d4]; }
                #pragma unroll
                for (int i = 0; i < RI; i++)
                    #pragma unroll
                    for (int j = 0; j < CJ; j++) { DOT4(s[i][j], qv[i], kv[j]); DOT4(dp[i][j], ov[i], vv[j]); }
            }
        }
        #pragma unroll
        for (int i = 0; i < RI; i++)
            #pragma unroll
            for (int j = 0; j < CJ; j++) {
                const int r = ty + T * i, c = tx + T * j;
                const bool valid = q0 + r < n && k0 + c < n;
                const float p = valid ? exp(s[i][j] * scale - Ls[r]) : 0.0f;
                ptf[c * 4 * PT4 + r] = p;
                dstf[c * 4 * PT4 + r] = p * (dp[i][j] - Ds[r]);
            }
        #pragma unroll
        for (int cc = 0; cc < NCHUNK; cc++) {
            const int ch = NCHUNK - 1 - cc;
            if (cc > 0) {
                barrier(CLK_LOCAL_MEM_FENCE);
                load_tile((__local float*)Qc, 4 * QC4, Q, q0, BR, ch * DC, DC, n, tid);
                load_tile((__local float*)dOc, 4 * QC4, dO, q0, BR, ch * DC, DC, n, tid);
            }
            barrier(CLK_LOCAL_MEM_FENCE);
            for (int r4 = 0; r4 < BR / 4; r4++) {
                float4 p[KI], ds[KI];
                #pragma unroll
                for (int i = 0; i < KI; i++) { p[i] = Pt[(ty + T * i) * PT4 + r4]; ds[i] = dSt[(ty + T * i) * PT4 + r4]; }
                #pragma unroll
                for (int jj = 0; jj < CJ4; jj++) {
                    const int col = tx + T * jj, row = 4 * r4 * QC4;
                    const float4 q0v = Qc[row + col], q1v = Qc[row + QC4 + col], q2v = Qc[row + 2 * QC4 + col], q3v = Qc[row + 3 * QC4 + col];
                    const float4 o0v = dOc[row + col], o1v = dOc[row + QC4 + col], o2v = dOc[row + 2 * QC4 + col], o3v = dOc[row + 3 * QC4 + col];
                    #pragma unroll
                    for (int i = 0; i < KI; i++) {
                        ACC4(dv[i][ch * CJ4 + jj], p[i], o0v, o1v, o2v, o3v);
                        ACC4(dk[i][ch * CJ4 + jj], ds[i], q0v, q1v, q2v, q3v);
                    }
                }
            }
        }
    }
    #pragma unroll
    for (int i = 0; i < KI; i++) {
        const int c = k0 + ty + T * i;
        if (c < n)
            #pragma unroll
            for (int j = 0; j < DJ4; j++) {
                store4(dK + c * HEAD_DIM, 4 * (tx + T * j), scale * dk[i][j]);
                store4(dV + c * HEAD_DIM, 4 * (tx + T * j), dv[i][j]);
            }
    }
}

#define DS4 (BC / 4 + 1)
__kernel __attribute__((reqd_work_group_size(T, T, 1)))
void attn_bwd_q_v4(__global float* dQ, __global const float* dO, __global const float* Q, __global const float* K,
                   __global const float* V, __global const float* L, __global const float* DELTA,
                   const int n, const float scale) {
    __local float4 Qs[BR * KS4], dOs[BR * KS4];
    __local float4 Kc[BC * QC4], Vc[BC * QC4];
    __local float4 dSs[BR * DS4];
    const int tx = get_local_id(0), ty = get_local_id(1), tid = ty * T + tx;
    const int q0 = get_group_id(0) * BR, bh = get_group_id(1);
    const size_t base = (size_t)bh * n * HEAD_DIM;
    Q += base; K += base; V += base; dO += base; dQ += base;
    L += (size_t)bh * n; DELTA += (size_t)bh * n;
    __local float* dsf = (__local float*)dSs;

    load_tile((__local float*)Qs, 4 * KS4, Q, q0, BR, 0, DPAD, n, tid);
    load_tile((__local float*)dOs, 4 * KS4, dO, q0, BR, 0, DPAD, n, tid);
    float lr[RI], dr[RI];
    float4 dq[RI][DJ4];
    #pragma unroll
    for (int i = 0; i < RI; i++) {
        const int qr = q0 + ty + T * i;
        lr[i] = qr < n ? L[qr] : 0.0f;
        dr[i] = qr < n ? DELTA[qr] : 0.0f;
        #pragma unroll
        for (int j = 0; j < DJ4; j++) dq[i][j] = (float4)(0.0f);
    }
    for (int k0 = 0; k0 < n; k0 += BC) {
        float s[RI][CJ], dp[RI][CJ];
        #pragma unroll
        for (int i = 0; i < RI; i++)
            #pragma unroll
            for (int j = 0; j < CJ; j++) { s[i][j] = 0.0f; dp[i][j] = 0.0f; }
        for (int ch = 0; ch < NCHUNK; ch++) {
            barrier(CLK_LOCAL_MEM_FENCE);
            load_tile((__local float*)Kc, 4 * QC4, K, k0, BC, ch * DC, DC, n, tid);
            load_tile((__local float*)Vc, 4 * QC4, V, k0, BC, ch * DC, DC, n, tid);
            barrier(CLK_LOCAL_MEM_FENCE);
            for (int d4 = 0; d4 < DC / 4; d4++) {
                float4 qv[RI], ov[RI], kv[CJ], vv[CJ];
                #pragma unroll
                for (int i = 0; i < RI; i++) { qv[i] = Qs[(ty + T * i) * KS4 + ch * (DC / 4) + d4]; ov[i] = dOs[(ty + T * i) * KS4 + ch * (DC / 4) + d4]; }
                #pragma unroll
                for (int j = 0; j < CJ; j++) { kv[j] = Kc[(tx + T * j) * QC4 + d4]; vv[j] = Vc[(tx + T * j) * QC4 + d4]; }
                #pragma unroll
                for (int i = 0; i < RI; i++)
                    #pragma unroll
                    for (int j = 0; j < CJ; j++) { DOT4(s[i][j], qv[i], kv[j]); DOT4(dp[i][j], ov[i], vv[j]); }
            }
        }
        #pragma unroll
        for (int i = 0; i < RI; i++)
            #pragma unroll
            for (int j = 0; j < CJ; j++) {
                const int r = ty + T * i, c = tx + T * j;
                const bool valid = q0 + r < n && k0 + c < n;
                const float p = valid ? exp(s[i][j] * scale - lr[i]) : 0.0f;
                dsf[r * 4 * DS4 + c] = p * (dp[i][j] - dr[i]);
            }
        #pragma unroll
        for (int cc = 0; cc < NCHUNK; cc++) {
            const int ch = NCHUNK - 1 - cc;
            if (cc > 0) {
                barrier(CLK_LOCAL_MEM_FENCE);
                load_tile((__local float*)Kc, 4 * QC4, K, k0, BC, ch * DC, DC, n, tid);
            }
            barrier(CLK_LOCAL_MEM_FENCE);
            for (int c4 = 0; c4 < BC / 4; c4++) {
                float4 ds[RI];
                #pragma unroll
                for (int i = 0; i < RI; i++) ds[i] = dSs[(ty + T * i) * DS4 + c4];
                #pragma unroll
                for (int jj = 0; jj < CJ4; jj++) {
                    const int col = tx + T * jj, row = 4 * c4 * QC4;
                    const float4 k0v = Kc[row + col], k1v = Kc[row + QC4 + col], k2v = Kc[row + 2 * QC4 + col], k3v = Kc[row + 3 * QC4 + col];
                    #pragma unroll
                    for (int i = 0; i < RI; i++) ACC4(dq[i][ch * CJ4 + jj], ds[i], k0v, k1v, k2v, k3v);
                }
            }
        }
    }
    #pragma unroll
    for (int i = 0; i < RI; i++) {
        const int qr = q0 + ty + T * i;
        if (qr < n)
            #pragma unroll
            for (int j = 0; j < DJ4; j++) store4(dQ + qr * HEAD_DIM, 4 * (tx + T * j), scale * dq[i][j]);
    }
}
