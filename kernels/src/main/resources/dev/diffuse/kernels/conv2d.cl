// 2-D convolution (cross-correlation, as PyTorch), NCHW, weights (Cout, Cin, KH, KW), bias (Cout).
//   y[b,co,oh,ow] = bias[co] + sum_{ci,kh,kw} w[co,ci,kh,kw] * x[b,ci, oh*S+kh-PT, ow*S+kw-PL]   (zero outside x)
// with OH = (H + PT + PB - KH)/S + 1 (the bottom/right padding PB/PR only enter through OH, OW).
//
// Every kernel is an implicit GEMM C[M,N] = sum_k A[M,K] B[K,N]: tiles of A and B are gathered straight from the
// tensors into local memory (no im2col buffer in global memory), each work-item keeps an RM x RN register block.
//   conv2d_forward         M = Cout, N = B*OH*OW, K = Cin*KH*KW; A = w, B = x gathered; writes y = C + bias.
//   conv2d_backward_input  M = Cin,  N = B*H*W,   K = Cout*KH*KW; A[ci,(co,kh,kw)] = w[co,ci,kh,kw],
//                          B[(co,kh,kw),(b,ih,iw)] = dy[b,co,oh,ow] where ih = oh*S+kh-PT, iw = ow*S+kw-PL
//                          (zero when no such oh/ow): dx = conv_transpose(dy, w); WRITES dx.
//   conv2d_backward_weight M = Cout, N = Cin*KH*KW, K = B*OH*OW split into `splits` fixed ranges (grid dim 2):
//                          A = dy, B[(b,oh,ow),(ci,kh,kw)] = x[b,ci,oh*S+kh-PT,ow*S+kw-PL]. With one split it
//                          ACCUMULATES dw += C; else it writes partial[s] and conv2d_reduce_splits adds
//                          dw += sum_s partial[s] in order s = 0, 1, ... (deterministic, no atomics).
//   conv2d_backward_bias   one work-group per co: fixed-order strided sums + tree; ACCUMULATES db += sum dy.
// Preconditions: every tensor < 2^31 elements (int indexing); edges are guarded, any shape works.
// Launch (GEMM kernels): local = (WN, WM), global = (ceil(N/TN)*WN, ceil(M/TM)*WM[, splits]).
// Tuning: TM x TN output tile, TK depth of a K step, WM x WN work-items (RM = TM/WM, RN = TN/WN per item);
// WM*WN must be a multiple of TN and TK (each item loads fixed columns of the tiles). RWG: bias reduction group.

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
#define WM 16
#endif
#ifndef WN
#define WN 16
#endif
#ifndef RWG
#define RWG 256
#endif

#define WG (WM * WN)
#define RM (TM / WM)
#define RN (TN / WN)
#define LA (TM * TK / WG) // A elements each item loads per K step
#define LB (TK * TN / WG) // B elements each item loads per K step
#if (TM % WM) || (TN % WN) || (WG % TK) || (WG % TN) || ((TM * TK) % WG) || ((TK * TN) % WG)
#error "conv2d.cl: need TM % WM == 0, TN % WN == 0, WG % TK == 0, WG % TN == 0, TM*TK and TK*TN multiples of WG"
#endif

// Local tiles are [TK][T+1]: the +1 column keeps transposed stores (k fastest across items) off one bank.
#define GEMM_DECLS                                                                   \
    __local float As[TK][TM + 1];                                                    \
    __local float Bs[TK][TN + 1];                                                    \
    const int tx = get_local_id(0), ty = get_local_id(1), lid = ty * WN + tx;        \
    const int n0 = get_group_id(0) * TN, m0 = get_group_id(1) * TM;                  \
    float acc[RM][RN];                                                               \
    for (int i = 0; i < RM; i++)                                                     \
        for (int j = 0; j < RN; j++) acc[i][j] = 0.0f;

// acc[i][j] += sum_kk As[kk][ty + i*WM] * Bs[kk][tx + j*WN]; strided ownership keeps reads conflict-free and
// the final stores coalesced along n.
#define GEMM_TILE_MAC                                                                \
    barrier(CLK_LOCAL_MEM_FENCE);                                                    \
    for (int kk = 0; kk < TK; kk++) {                                                \
        float a[RM], bv[RN];                                                         \
        for (int i = 0; i < RM; i++) a[i] = As[kk][ty + i * WM];                     \
        for (int j = 0; j < RN; j++) bv[j] = Bs[kk][tx + j * WN];                    \
        for (int i = 0; i < RM; i++)                                                 \
            for (int j = 0; j < RN; j++) acc[i][j] = mad(a[i], bv[j], acc[i][j]);    \
    }                                                                                \
    barrier(CLK_LOCAL_MEM_FENCE);

__kernel __attribute__((reqd_work_group_size(WN, WM, 1)))
void conv2d_forward(__global float* y, __global const float* x, __global const float* w,
                    __global const float* bias, const int B, const int Cin, const int H, const int W,
                    const int Cout, const int OH, const int OW, const int KH, const int KW, const int S,
                    const int PT, const int PL) {
    GEMM_DECLS
    const int KK = KH * KW, P = OH * OW, M = Cout, N = B * P, K = Cin * KK;
    // A loads: item owns k column ak (fastest across items: coalesced along a weight row), rows am0 + r*WG/TK.
    const int ak = lid % TK, am0 = lid / TK;
    // B loads: item owns n column bn (coalesced along ow), rows bk0 + r*WG/TN; its pixel is fixed for all steps.
    const int bn = lid % TN, bk0 = lid / TN, n = n0 + bn;
    const int nb = n / P, np = n - nb * P, oh = np / OW, ow = np - oh * OW;
    const int ih0 = oh * S - PT, iw0 = ow * S - PL;
    __global const float* xb = x + (n < N ? nb : 0) * Cin * H * W;
    for (int k0 = 0; k0 < K; k0 += TK) {
        for (int r = 0; r < LA; r++) {
            int mm = am0 + r * (WG / TK), m = m0 + mm, k = k0 + ak;
            As[ak][mm] = (m < M && k < K) ? w[m * K + k] : 0.0f;
        }
        for (int r = 0; r < LB; r++) {
            int kk = bk0 + r * (WG / TN), k = k0 + kk;
            float v = 0.0f;
            if (n < N && k < K) {
                int ci = k / KK, rr = k - ci * KK, kh = rr / KW, kw = rr - kh * KW;
                int ih = ih0 + kh, iw = iw0 + kw;
                if (ih >= 0 && ih < H && iw >= 0 && iw < W) v = xb[(ci * H + ih) * W + iw];
            }
            Bs[kk][bn] = v;
        }
        GEMM_TILE_MAC
    }
    for (int j = 0; j < RN; j++) {
        int nn = n0 + tx + j * WN;
        if (nn >= N) continue;
        int b = nn / P, p = nn - b * P;
        for (int i = 0; i < RM; i++) {
            int m = m0 + ty + i * WM;
            if (m < M) y[(b * Cout + m) * P + p] = acc[i][j] + bias[m];
        }
    }
}

__kernel __attribute__((reqd_work_group_size(WN, WM, 1)))
void conv2d_backward_input(__global float* dx, __global const float* dy, __global const float* w,
                           const int B, const int Cin, const int H, const int W, const int Cout, const int OH,
                           const int OW, const int KH, const int KW, const int S, const int PT, const int PL) {
    GEMM_DECLS
    const int KK = KH * KW, HW = H * W, M = Cin, N = B * HW, K = Cout * KK;
    const int ak = lid % TK, am0 = lid / TK;
    const int bn = lid % TN, bk0 = lid / TN, n = n0 + bn;
    const int nb = n / HW, np = n - nb * HW, ih = np / W, iw = np - ih * W;
    __global const float* dyb = dy + (n < N ? nb : 0) * Cout * OH * OW;
    for (int k0 = 0; k0 < K; k0 += TK) {
        {
            int k = k0 + ak, co = k / KK, rr = k - co * KK;
            for (int r = 0; r < LA; r++) {
                int mm = am0 + r * (WG / TK), m = m0 + mm;
                As[ak][mm] = (m < M && k < K) ? w[(co * Cin + m) * KK + rr] : 0.0f;
            }
        }
        for (int r = 0; r < LB; r++) {
            int kk = bk0 + r * (WG / TN), k = k0 + kk;
            float v = 0.0f;
            if (n < N && k < K) {
                int co = k / KK, rr = k - co * KK, kh = rr / KW, kw = rr - kh * KW;
                // ih = oh*S + kh - PT  <=>  oh = (ih + PT - kh) / S, exact and in range
                int th = ih + PT - kh, tw = iw + PL - kw;
                if (th >= 0 && tw >= 0) {
                    int oh = th / S, ow = tw / S;
                    if (oh * S == th && ow * S == tw && oh < OH && ow < OW) v = dyb[(co * OH + oh) * OW + ow];
                }
            }
            Bs[kk][bn] = v;
        }
        GEMM_TILE_MAC
    }
    for (int j = 0; j < RN; j++) {
        int nn = n0 + tx + j * WN;
        if (nn >= N) continue;
        int b = nn / HW, p = nn - b * HW;
        for (int i = 0; i < RM; i++) {
            int m = m0 + ty + i * WM;
            if (m < M) dx[(b * Cin + m) * HW + p] = acc[i][j];
        }
    }
}

__kernel __attribute__((reqd_work_group_size(WN, WM, 1)))
void conv2d_backward_weight(__global float* dst, __global const float* dy, __global const float* x,
                            const int B, const int Cin, const int H, const int W, const int Cout, const int OH,
                            const int OW, const int KH, const int KW, const int S, const int PT, const int PL,
                            const int kChunk, const int accumulate) {
    GEMM_DECLS
    const int KK = KH * KW, P = OH * OW, M = Cout, N = Cin * KK, K = B * P;
    const int s = get_group_id(2), kBeg = s * kChunk, kEnd = min(K, kBeg + kChunk);
    // A = dy[b,co,p] with k = (b,p): item owns k column ak (coalesced along p).
    const int ak = lid % TK, am0 = lid / TK;
    // B = x gathered: item owns k row bk (coalesced along ow) and columns bn0 + r*WG/TK, fixed for all steps.
    const int bk = lid % TK, bn0 = lid / TK;
    int xoff[LB], kh[LB], kw[LB];
    for (int r = 0; r < LB; r++) {
        int nn = n0 + bn0 + r * (WG / TK), ci = nn / KK, rr = nn - ci * KK;
        kh[r] = rr / KW;
        kw[r] = rr - kh[r] * KW;
        xoff[r] = nn < N ? ci * H * W : -1;
    }
    for (int k0 = kBeg; k0 < kEnd; k0 += TK) {
        {
            int k = k0 + ak, b = k / P, p = k - b * P;
            for (int r = 0; r < LA; r++) {
                int mm = am0 + r * (WG / TK), m = m0 + mm;
                As[ak][mm] = (m < M && k < kEnd) ? dy[(b * Cout + m) * P + p] : 0.0f;
            }
        }
        {
            int k = k0 + bk, b = k / P, p = k - b * P, oh = p / OW, ow = p - oh * OW;
            int ih0 = oh * S - PT, iw0 = ow * S - PL;
            __global const float* xb = x + (k < kEnd ? b : 0) * Cin * H * W;
            for (int r = 0; r < LB; r++) {
                int ih = ih0 + kh[r], iw = iw0 + kw[r];
                float v = 0.0f;
                if (k < kEnd && xoff[r] >= 0 && ih >= 0 && ih < H && iw >= 0 && iw < W) v = xb[xoff[r] + ih * W + iw];
                Bs[bk][bn0 + r * (WG / TK)] = v;
            }
        }
        GEMM_TILE_MAC
    }
    __global float* out = accumulate ? dst : dst + s * M * N;
    for (int i = 0; i < RM; i++) {
        int m = m0 + ty + i * WM;
        if (m >= M) continue;
        for (int j = 0; j < RN; j++) {
            int nn = n0 + tx + j * WN;
            if (nn < N) {
                if (accumulate) out[m * N + nn] += acc[i][j];
                else out[m * N + nn] = acc[i][j];
            }
        }
    }
}

// dw[i] += sum_{s=0..splits-1} partial[s*count + i], summed in order of s.
__kernel void conv2d_reduce_splits(__global float* dw, __global const float* partial, const int splits,
                                   const int count) {
    int i = get_global_id(0);
    if (i >= count) return;
    float sum = 0.0f;
    for (int s = 0; s < splits; s++) sum += partial[s * count + i];
    dw[i] += sum;
}

// db[co] += sum_{b,p} dy[b,co,p]: item t sums elements t, t+RWG, ... of the (b,p) range, then a tree in local memory.
__kernel __attribute__((reqd_work_group_size(RWG, 1, 1)))
void conv2d_backward_bias(__global float* db, __global const float* dy, const int B, const int Cout, const int P) {
    __local float part[RWG];
    const int co = get_group_id(0), t = get_local_id(0), total = B * P;
    float sum = 0.0f;
    for (int i = t; i < total; i += RWG) {
        int b = i / P, p = i - b * P;
        sum += dy[(b * Cout + co) * P + p];
    }
    part[t] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int h = RWG / 2; h > 0; h >>= 1) {
        if (t < h) part[t] += part[t + h];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (t == 0) db[co] += part[0];
}
