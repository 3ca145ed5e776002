/*
 * attention_backward.cl: flash-attention-2 backward of attention.cl (layout, math, tiles: see attention.cl).
 * attn_delta, then attn_bwd_kv (writes dK, dV) and attn_bwd_q (writes dQ); fixed-order sums, no atomics.
 */
// @include dev/diffuse/kernels/attention_common.cl

__kernel void attn_delta(__global float* DELTA, __global const float* dO, __global const float* O, const int rows) {
    const int row = get_global_id(0);
    if (row >= rows) return;
    const size_t base = (size_t)row * HEAD_DIM;
    float acc = 0.0f;
    for (int d = 0; d < HEAD_DIM; d++) acc = fma(dO[base + d], O[base + d], acc);
    DELTA[row] = acc;
}

#define RI (BR / T)
#define CJ (BC / T)
#define KI (BC / T)

__kernel __attribute__((reqd_work_group_size(T, T, 1)))
void attn_bwd_kv(__global float* dK, __global float* dV, __global const float* dO, __global const float* Q,
                 __global const float* K, __global const float* V, __global const float* L,
                 __global const float* DELTA, const int n, const float scale) {
    __local float Ks[BC * DP1], Vs[BC * DP1];
    __local float Qc[BR * DC1], dOc[BR * DC1];
    __local float Ps[BR * (BC + 1)], dSs[BR * (BC + 1)];
    __local float Ls[BR], Ds[BR];
    const int tx = get_local_id(0), ty = get_local_id(1), tid = ty * T + tx;
    const int k0 = get_group_id(0) * BC, bh = get_group_id(1);
    const size_t base = (size_t)bh * n * HEAD_DIM;
    Q += base; K += base; V += base; dO += base; dK += base; dV += base;
    L += (size_t)bh * n; DELTA += (size_t)bh * n;

    load_tile(Ks, DP1, K, k0, BC, 0, DPAD, n, tid);
    load_tile(Vs, DP1, V, k0, BC, 0, DPAD, n, tid);
    float dk[KI][DJ], dv[KI][DJ];
    #pragma unroll
    for (int i = 0; i < KI; i++)
        #pragma unroll
        for (int j = 0; j < DJ; j++) { dk[i][j] = 0.0f; dv[i][j] = 0.0f; }

    for (int q0 = 0; q0 < n; q0 += BR) {
        /* phase A: S = Q K^T and dP = dO V^T on the BR x BC tile, summed over D-chunks */
        float s[RI][CJ], dp[RI][CJ];
        #pragma unroll
        for (int i = 0; i < RI; i++)
            #pragma unroll
            for (int j = 0; j < CJ; j++) { s[i][j] = 0.0f; dp[i][j] = 0.0f; }
        for (int ch = 0; ch < NCHUNK; ch++) {
            barrier(CLK_LOCAL_MEM_FENCE);
            load_tile(Qc, DC1, Q, q0, BR, ch * DC, DC, n, tid);
            load_tile(dOc, DC1, dO, q0, BR, ch * DC, DC, n, tid);
            if (ch == 0 && tid < BR) {
                Ls[tid] = q0 + tid < n ? L[q0 + tid] : 0.0f;
                Ds[tid] = q0 + tid < n ? DELTA[q0 + tid] : 0.0f;
            }
            barrier(CLK_LOCAL_MEM_FENCE);
            for (int d = 0; d < DC; d++) {
                float qv[RI], ov[RI], kv[CJ], vv[CJ];
                #pragma unroll
                for (int i = 0; i < RI; i++) { qv[i] = Qc[(ty + T * i) * DC1 + d]; ov[i] = dOc[(ty + T * i) * DC1 + d]; }
                #pragma unroll
                for (int j = 0; j < CJ; j++) { kv[j] = Ks[(tx + T * j) * DP1 + ch * DC + d]; vv[j] = Vs[(tx + T * j) * DP1 + ch * DC + d]; }
                #pragma unroll
                for (int i = 0; i < RI; i++)
                    #pragma unroll
                    for (int j = 0; j < CJ; j++) { s[i][j] = fma(qv[i], kv[j], s[i][j]); dp[i][j] = fma(ov[i], vv[j], dp[i][j]); }
            }
        }
        #pragma unroll
        for (int i = 0; i < RI; i++)
            #pragma unroll
            for (int j = 0; j < CJ; j++) {
                const int r = ty + T * i, c = tx + T * j;
                const bool valid = q0 + r < n && k0 + c < n;
                const float p = valid ? exp(s[i][j] * scale - Ls[r]) : 0.0f;
                Ps[r * (BC + 1) + c] = p;
                dSs[r * (BC + 1) + c] = p * (dp[i][j] - Ds[r]);
            }
        /* phase B: dV += P^T dO, dK += dS^T Q, chunk by chunk (the last chunk of phase A is still loaded) */
        #pragma unroll
        for (int cc = 0; cc < NCHUNK; cc++) {
            const int ch = NCHUNK - 1 - cc;
            if (cc > 0) {
                barrier(CLK_LOCAL_MEM_FENCE);
                load_tile(Qc, DC1, Q, q0, BR, ch * DC, DC, n, tid);
                load_tile(dOc, DC1, dO, q0, BR, ch * DC, DC, n, tid);
            }
            barrier(CLK_LOCAL_MEM_FENCE);
            for (int r = 0; r < BR; r++) {
                float p[KI], ds[KI];
                #pragma unroll
                for (int i = 0; i < KI; i++) { p[i] = Ps[r * (BC + 1) + ty + T * i]; ds[i] = dSs[r * (BC + 1) + ty + T * i]; }
                #pragma unroll
                for (int jj = 0; jj < DC / T; jj++) {
                    const float qv = Qc[r * DC1 + tx + T * jj], ov = dOc[r * DC1 + tx + T * jj];
                    #pragma unroll
                    for (int i = 0; i < KI; i++) {
                        dv[i][ch * (DC / T) + jj] = fma(p[i], ov, dv[i][ch * (DC / T) + jj]);
                        dk[i][ch * (DC / T) + jj] = fma(ds[i], qv, dk[i][ch * (DC / T) + jj]);
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
            for (int j = 0; j < DJ; j++) {
                const int d = tx + T * j;
                if (d < HEAD_DIM) { dK[c * HEAD_DIM + d] = scale * dk[i][j]; dV[c * HEAD_DIM + d] = dv[i][j]; }
            }
    }
}

__kernel __attribute__((reqd_work_group_size(T, T, 1)))
void attn_bwd_q(__global float* dQ, __global const float* dO, __global const float* Q, __global const float* K,
                __global const float* V, __global const float* L, __global const float* DELTA,
                const int n, const float scale) {
    __local float Qs[BR * DP1], dOs[BR * DP1];
    __local float Kc[BC * DC1], Vc[BC * DC1];
    __local float dSs[BR * (BC + 1)];
    const int tx = get_local_id(0), ty = get_local_id(1), tid = ty * T + tx;
    const int q0 = get_group_id(0) * BR, bh = get_group_id(1);
    const size_t base = (size_t)bh * n * HEAD_DIM;
    Q += base; K += base; V += base; dO += base; dQ += base;
    L += (size_t)bh * n; DELTA += (size_t)bh * n;

    load_tile(Qs, DP1, Q, q0, BR, 0, DPAD, n, tid);
    load_tile(dOs, DP1, dO, q0, BR, 0, DPAD, n, tid);
    float lr[RI], dr[RI], dq[RI][DJ];
    #pragma unroll
    for (int i = 0; i < RI; i++) {
        const int qr = q0 + ty + T * i;
        lr[i] = qr < n ? L[qr] : 0.0f;
        dr[i] = qr < n ? DELTA[qr] : 0.0f;
        #pragma unroll
        for (int j = 0; j < DJ; j++) dq[i][j] = 0.0f;
    }
    for (int k0 = 0; k0 < n; k0 += BC) {
        float s[RI][CJ], dp[RI][CJ];
        #pragma unroll
        for (int i = 0; i < RI; i++)
            #pragma unroll
            for (int j = 0; j < CJ; j++) { s[i][j] = 0.0f; dp[i][j] = 0.0f; }
        for (int ch = 0; ch < NCHUNK; ch++) {
            barrier(CLK_LOCAL_MEM_FENCE);
            load_tile(Kc, DC1, K, k0, BC, ch * DC, DC, n, tid);
            load_tile(Vc, DC1, V, k0, BC, ch * DC, DC, n, tid);
            barrier(CLK_LOCAL_MEM_FENCE);
            for (int d = 0; d < DC; d++) {
                float qv[RI], ov[RI], kv[CJ], vv[CJ];
                #pragma unroll
                for (int i = 0; i < RI; i++) { qv[i] = Qs[(ty + T * i) * DP1 + ch * DC + d]; ov[i] = dOs[(ty + T * i) * DP1 + ch * DC + d]; }
                #pragma unroll
                for (int j = 0; j < CJ; j++) { kv[j] = Kc[(tx + T * j) * DC1 + d]; vv[j] = Vc[(tx + T * j) * DC1 + d]; }
                #pragma unroll
                for (int i = 0; i < RI; i++)
                    #pragma unroll
                    for (int j = 0; j < CJ; j++) { s[i][j] = fma(qv[i], kv[j], s[i][j]); dp[i][j] = fma(ov[i], vv[j], dp[i][j]); }
            }
        }
        #pragma unroll
        for (int i = 0; i < RI; i++)
            #pragma unroll
            for (int j = 0; j < CJ; j++) {
                const int r = ty + T * i, c = tx + T * j;
                const bool valid = q0 + r < n && k0 + c < n;
                const float p = valid ? exp(s[i][j] * scale - lr[i]) : 0.0f;
                dSs[r * (BC + 1) + c] = p * (dp[i][j] - dr[i]);
            }
        /* dQ += dS K, chunk by chunk (the last chunk of K is still loaded) */
        #pragma unroll
        for (int cc = 0; cc < NCHUNK; cc++) {
            const int ch = NCHUNK - 1 - cc;
            if (cc > 0) {
                barrier(CLK_LOCAL_MEM_FENCE);
                load_tile(Kc, DC1, K, k0, BC, ch * DC, DC, n, tid);
            }
            barrier(CLK_LOCAL_MEM_FENCE);
            for (int c = 0; c < BC; c++) {
                float ds[RI];
                #pragma unroll
                for (int i = 0; i < RI; i++) ds[i] = dSs[(ty + T * i) * (BC + 1) + c];
                #pragma unroll
                for (int jj = 0; jj < DC / T; jj++) {
                    const float kv = Kc[c * DC1 + tx + T * jj];
                    #pragma unroll
                    for (int i = 0; i < RI; i++) dq[i][ch * (DC / T) + jj] = fma(ds[i], kv, dq[i][ch * (DC / T) + jj]);
                }
            }
        }
    }
    #pragma unroll
    for (int i = 0; i < RI; i++) {
        const int qr = q0 + ty + T * i;
        if (qr < n)
            #pragma unroll
            for (int j = 0; j < DJ; j++) {
                const int d = tx + T * j;
                if (d < HEAD_DIM) dQ[qr * HEAD_DIM + d] = scale * dq[i][j];
            }
    }
}

