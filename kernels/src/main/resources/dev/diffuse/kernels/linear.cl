// Linear algebra for the U-Net's dense layers: a tiled SGEMM and the bias-gradient column sum.
//
// gemm:   C = alpha * op(A) op(B) + beta * C (+ bias[n] when HAS_BIAS=1), op(X) = X or X^T.
//   C is M x N row-major (ldc = N). op(A) is M x K: A is M x K (lda = K) or, with TRANS_A=1, K x M (lda = M).
//   op(B) is K x N: B is K x N (ldb = N) or, with TRANS_B=1, N x K (ldb = K).
//   beta == 0 never reads C (so C may hold garbage or NaN). Any M, N, K >= 1: every load and store is guarded.
//   Variants are compile-time: TRANS_A, TRANS_B in {0,1}, HAS_BIAS in {0,1}.
//   Launch: 2-D, local = (TN/WN, TM/WM), global = (ceil(N/TN)*TN/WN, ceil(M/TM)*TM/WM).
//   Each work-group computes one TM x TN tile of C; work-item (lx, ly) a WM x WN block of it at rows
//   ly*WM.., columns lx*WN... Per K-tile the group stages TM x TK of op(A) and TK x TN of op(B) in local memory,
//   k-major, so the inner loop reads its WM values of A and WN values of B as float4 (LDS.128 on NVIDIA: a warp
//   reads 2 broadcast A vectors and 16 consecutive B vectors) for WM*WN FMAs. Global loads run along the
//   contiguous dimension of each operand (coalesced for all variants); C stores are WN consecutive floats per
//   work-item, consecutive across lx. The sum over k runs in increasing k inside one work-item: deterministic.
//   Preconditions: WM, WN multiples of 4; TM % WM == TN % WN == 0.
//   Tuning records (set by GemmCl): 64x64x16 with 4x4 per item (256 items, 8.5 KB local) for small problems;
//   128x64x16 with 8x4 (256 items, 12.8 KB local) when there are enough tiles to fill the GPU. H100: 48 KB local
//   per group, so 3+ groups per SM by local memory; registers (~64 accumulators + staging) limit occupancy first.
//
// colsum_partial / colsum_final: db[n] += sum_m dy[m][n], deterministic two-pass.
//   colsum_partial: local = (CS_W, CS_H) = (32, 8), global = (ceil(N/32)*32, P*8). Group (gx, p) sums rows of
//   chunk p (rows p*R .. p*R+R-1, R = ceil(M/P)) for 32 columns: lane ly takes rows ly, ly+8, ... of the chunk,
//   then the 8 lanes are tree-reduced in local memory. partial[p*N + n].
//   colsum_final: one work-item per column, sums the P partials in order p = 0..P-1 and adds into db.

#ifndef TM
#define TM 64
#endif
#ifndef TN
#define TN 64
#endif
#ifndef TK
#define TK 16
#endif
#ifndef WM
#define WM 4
#endif
#ifndef WN
#define WN 4
#endif
#ifndef TRANS_A
#define TRANS_A 0
#endif
#ifndef TRANS_B
#define TRANS_B 0
#endif
#ifndef HAS_BIAS
#define HAS_BIAS 0
#endif
#ifndef CS_W
#define CS_W 32
#endif
#ifndef CS_H
#define CS_H 8
#endif

#define GX (TN / WN)      /* work-items along n */
#define GY (TM / WM)      /* work-items along m */
#define WG (GX * GY)
#define LDA_S (TM + 4)    /* +4: staging stores along k spread over banks, rows stay float4-aligned */
#define LDB_S (TN + 4)

__kernel __attribute__((reqd_work_group_size(GX, GY, 1)))
void gemm(__global float* C, __global const float* A, __global const float* B, __global const float* bias,
          const int M, const int N, const int K, const float alpha, const float beta) {
    __local float As[TK * LDA_S] __attribute__((aligned(16)));   // As[k][m]
    __local float Bs[TK * LDB_S] __attribute__((aligned(16)));   // Bs[k][n]
    const int lx = get_local_id(0), ly = get_local_id(1), tid = ly * GX + lx;
    const int m0 = get_group_id(1) * TM, n0 = get_group_id(0) * TN;

    float acc[WM][WN];
    for (int r = 0; r < WM; r++)
        for (int c = 0; c < WN; c++) acc[r][c] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += TK) {
        // Stage op(A)[m0.., k0..] into As[k][m].
        for (int l = tid; l < TM * TK; l += WG) {
#if TRANS_A
            const int mm = l % TM, kk = l / TM;          // A is K x M: consecutive items along m
            const int gm = m0 + mm, gk = k0 + kk;
            As[kk * LDA_S + mm] = (gm < M && gk < K) ? A[(long)gk * M + gm] : 0.0f;
#else
            const int kk = l % TK, mm = l / TK;          // A is M x K: consecutive items along k
            const int gm = m0 + mm, gk = k0 + kk;
            As[kk * LDA_S + mm] = (gm < M && gk < K) ? A[(long)gm * K + gk] : 0.0f;
#endif
        }
        // Stage op(B)[k0.., n0..] into Bs[k][n].
        for (int l = tid; l < TK * TN; l += WG) {
#if TRANS_B
            const int kk = l % TK, nn = l / TK;          // B is N x K: consecutive items along k
            const int gn = n0 + nn, gk = k0 + kk;
            Bs[kk * LDB_S + nn] = (gn < N && gk < K) ? B[(long)gn * K + gk] : 0.0f;
#else
            const int nn = l % TN, kk = l / TN;          // B is K x N: consecutive items along n
            const int gn = n0 + nn, gk = k0 + kk;
            Bs[kk * LDB_S + nn] = (gn < N && gk < K) ? B[(long)gk * N + gn] : 0.0f;
#endif
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        #pragma unroll
        for (int k = 0; k < TK; k++) {
            float a[WM], b[WN];
            __local const float4* ap = (__local const float4*)(As + k * LDA_S + ly * WM);
            __local const float4* bp = (__local const float4*)(Bs + k * LDB_S + lx * WN);
            for (int q = 0; q < WM / 4; q++) {
                const float4 v = ap[q];
                a[4 * q] = v.x; a[4 * q + 1] = v.y; a[4 * q + 2] = v.z; a[4 * q + 3] = v.w;
            }
            for (int q = 0; q < WN / 4; q++) {
                const float4 v = bp[q];
                b[4 * q] = v.x; b[4 * q + 1] = v.y; b[4 * q + 2] = v.z; b[4 * q + 3] = v.w;
            }
            for (int r = 0; r < WM; r++)
                for (int c = 0; c < WN; c++) acc[r][c] = fma(a[r], b[c], acc[r][c]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    for (int r = 0; r < WM; r++) {
        const int gm = m0 + ly * WM + r;
        if (gm >= M) continue;
        for (int c = 0; c < WN; c++) {
            const int gn = n0 + lx * WN + c;
            if (gn >= N) continue;
            float v = alpha * acc[r][c];
            if (beta != 0.0f) v += beta * C[(long)gm * N + gn];
#if HAS_BIAS
            v += bias[gn];
#endif
            C[(long)gm * N + gn] = v;
        }
    }
}

__kernel __attribute__((reqd_work_group_size(CS_W, CS_H, 1)))
void colsum_partial(__global float* partial, __global const float* dy, const int M, const int N, const int R) {
    __local float s[CS_H][CS_W];
    const int lx = get_local_id(0), ly = get_local_id(1);
    const int n = get_group_id(0) * CS_W + lx, p = get_group_id(1);
    const int mEnd = min(M, (p + 1) * R);
    float acc = 0.0f;
    if (n < N)
        for (int m = p * R + ly; m < mEnd; m += CS_H) acc += dy[(long)m * N + n];
    s[ly][lx] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int h = CS_H / 2; h > 0; h >>= 1) {
        if (ly < h) s[ly][lx] += s[ly + h][lx];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (ly == 0 && n < N) partial[(long)p * N + n] = s[0][lx];
}

__kernel void colsum_final(__global float* db, __global const float* partial, const int N, const int P) {
    const int n = get_global_id(0);
    if (n >= N) return;
    float acc = 0.0f;
    for (int p = 0; p < P; p++) acc += partial[(long)p * N + n];
    db[n] += acc;
}
