// Attention forward for CPU-like OpenCL devices (PoCL): no local memory, no barriers, explicit vectors.
// Same maths and outputs as attn_forward in attention.cl: S = scale Q K^T, L = logsumexp_rows(S) (saved for the
// backward), O = exp(S - L) V; Q, K, V, O (BH, N, D) contiguous, L (BH, N).
//   attn_keys_transpose   KT (BH, D, NP) = K^T per head, zero for keys >= N (NP = N rounded up to VK): one item
//                         per element.
//   attn_forward_direct   work-item (g0 = block of RQ query rows, g1 = bh). Per block of VK keys: the RQ score
//                         vectors s = sum_d q[d] * KT[d, j0..j0+VK) (VK lanes of consecutive keys), masked past N,
//                         online softmax (running max m, sum l, o rescaled by exp(m_old - m_new)), then
//                         o += p_j * V[j] with the output row held as HEAD_DIM/DV vectors of DV lanes.
//                         Keys are visited in order: deterministic.
//   attn_bwd_q_direct     backward for dQ, work-item (g0 = query row i, g1 = bh): per block of VK keys the vectors
//                         s = q_i . KT, dp = dO_i . VT (transposed K and V), P = exp(scale s - L_i),
//                         dS = P (dp - delta_i), then dQ_i += dS_j K_j; written as scale dQ_i.
//   attn_bwd_kv_direct    backward for dK, dV, work-item (g0 = key row j, g1 = bh): per block of VK queries the
//                         vectors s = k_j . QT, dp = v_j . dOT (transposed Q and dO), P = exp(scale s - L),
//                         dS = P (dp - delta); dV_j += P_i dO_i, dK_j += dS_i Q_i (dK written as scale dK_j).
//                         delta = rowsum(dO * O) comes from attn_delta (attention_backward.cl). Fixed order: deterministic.
// Tuning: VK (4, 8, 16 keys per vector), RQ (query rows per item in the forward, 1..8), DV (4, 8, 16 lanes,
// dividing HEAD_DIM).

#ifndef HEAD_DIM
#define HEAD_DIM 32
#endif
#ifndef VK
#define VK 16
#endif
#ifndef RQ
#define RQ 1
#endif
#ifndef DV
#define DV 4
#endif
#if HEAD_DIM % DV
#error "attention_direct.cl: DV must divide HEAD_DIM"
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define floatK CAT(float, VK)
#define floatD CAT(float, DV)
#define VLOADK CAT(vload, VK)
#define VSTOREK CAT(vstore, VK)
#define VLOADD CAT(vload, DV)
#define VSTORED CAT(vstore, DV)
#define ND (HEAD_DIM / DV)

static inline float hmax4(float4 v) { return fmax(fmax(v.s0, v.s1), fmax(v.s2, v.s3)); }
static inline float hsum4(float4 v) { return (v.s0 + v.s1) + (v.s2 + v.s3); }
#if VK == 4
#define HMAX(v) hmax4(v)
#define HSUM(v) hsum4(v)
#elif VK == 8
#define HMAX(v) hmax4(fmax((v).lo, (v).hi))
#define HSUM(v) hsum4((v).lo + (v).hi)
#else
#define HMAX(v) hmax4(fmax(fmax((v).lo, (v).hi).lo, fmax((v).lo, (v).hi).hi))
#define HSUM(v) hsum4(((v).lo + (v).hi).lo + ((v).lo + (v).hi).hi)
#endif

__kernel void attn_keys_transpose(__global float* kt, __global const float* k, const int bh, const int n, const int np) {
    const int i = get_global_id(0);
    if (i >= bh * HEAD_DIM * np) return;
    const int j = i % np, d = (i / np) % HEAD_DIM, h = i / (np * HEAD_DIM);
    kt[i] = j < n ? k[((size_t)h * n + j) * HEAD_DIM + d] : 0.0f;
}

__kernel void attn_forward_direct(__global float* O, __global float* L, __global const float* Q,
                                  __global const float* KT, __global const float* V, const int n, const int np,
                                  const float scale) {
    const int q0 = get_global_id(0) * RQ, bh = get_global_id(1);
    if (q0 >= n) return;
    const size_t base = (size_t)bh * n * HEAD_DIM;
    float q[RQ][HEAD_DIM];
    floatD o[RQ][ND];
    float m[RQ], l[RQ];
    for (int r = 0; r < RQ; r++) {
        const int row = min(q0 + r, n - 1);             // rows past N repeat the last one; never stored
        for (int d = 0; d < HEAD_DIM; d++) q[r][d] = Q[base + (size_t)row * HEAD_DIM + d] * scale;
        for (int c = 0; c < ND; c++) o[r][c] = (floatD)(0.0f);
        m[r] = -INFINITY;
        l[r] = 0.0f;
    }
    __global const float* kt = KT + (size_t)bh * HEAD_DIM * np;
    for (int j0 = 0; j0 < n; j0 += VK) {
        floatK s[RQ];
        for (int r = 0; r < RQ; r++) s[r] = (floatK)(0.0f);
        for (int d = 0; d < HEAD_DIM; d++) {
            const floatK kv = VLOADK(0, kt + (size_t)d * np + j0);
            #pragma unroll
            for (int r = 0; r < RQ; r++) s[r] = fma((floatK)(q[r][d]), kv, s[r]);
        }
        const int valid = min(VK, n - j0);
        float p[RQ][VK];
        for (int r = 0; r < RQ; r++) {
            if (valid < VK) {
                float t[VK];
                VSTOREK(s[r], 0, t);
                for (int e = valid; e < VK; e++) t[e] = -INFINITY;
                s[r] = VLOADK(0, t);
            }
            const float mnew = fmax(m[r], HMAX(s[r]));   // finite: key j0 < n is valid
            const float alpha = exp(m[r] - mnew);
            const floatK pv = exp(s[r] - mnew);
            m[r] = mnew;
            l[r] = l[r] * alpha + HSUM(pv);
            for (int c = 0; c < ND; c++) o[r][c] *= alpha;
            VSTOREK(pv, 0, p[r]);
        }
        for (int e = 0; e < valid; e++) {
            __global const float* vr = V + base + (size_t)(j0 + e) * HEAD_DIM;
            for (int c = 0; c < ND; c++) {
                const floatD vv = VLOADD(c, vr);
                #pragma unroll
                for (int r = 0; r < RQ; r++) o[r][c] = fma((floatD)(p[r][e]), vv, o[r][c]);
            }
        }
    }
    for (int r = 0; r < RQ && q0 + r < n; r++) {
        const float inv = 1.0f / l[r];
        __global float* orow = O + base + (size_t)(q0 + r) * HEAD_DIM;
        for (int c = 0; c < ND; c++) VSTORED(o[r][c] * inv, c, orow);
        L[(size_t)bh * n + q0 + r] = m[r] + log(l[r]);
    }
}

/* v (VK lanes) from src[0..valid), zero past it: the last block of a row that does not fill a vector */
static inline floatK load_masked(__global const float* src, const int valid) {
    if (valid == VK) return VLOADK(0, src);
    float t[VK];
    for (int e = 0; e < VK; e++) t[e] = e < valid ? src[e] : 0.0f;
    return VLOADK(0, t);
}

__kernel void attn_bwd_q_direct(__global float* dQ, __global const float* dO, __global const float* Q,
                                __global const float* K, __global const float* KT, __global const float* VT,
                                __global const float* L, __global const float* DELTA, const int n, const int np,
                                const float scale) {
    const int i = get_global_id(0), bh = get_global_id(1);
    if (i >= n) return;
    const size_t base = (size_t)bh * n * HEAD_DIM, row = base + (size_t)i * HEAD_DIM;
    float q[HEAD_DIM], g[HEAD_DIM];
    for (int d = 0; d < HEAD_DIM; d++) {
        q[d] = Q[row + d];
        g[d] = dO[row + d];
    }
    const float li = L[(size_t)bh * n + i], di = DELTA[(size_t)bh * n + i];
    floatD acc[ND];
    for (int c = 0; c < ND; c++) acc[c] = (floatD)(0.0f);
    __global const float* kt = KT + (size_t)bh * HEAD_DIM * np;
    __global const float* vt = VT + (size_t)bh * HEAD_DIM * np;
    for (int j0 = 0; j0 < n; j0 += VK) {
        floatK s = (floatK)(0.0f), dp = (floatK)(0.0f);
        for (int d = 0; d < HEAD_DIM; d++) {
            s = fma((floatK)(q[d]), VLOADK(0, kt + (size_t)d * np + j0), s);
            dp = fma((floatK)(g[d]), VLOADK(0, vt + (size_t)d * np + j0), dp);
        }
        const floatK p = exp(s * scale - li);
        float ds[VK];
        VSTOREK(p * (dp - di), 0, ds);
        const int valid = min(VK, n - j0);
        for (int e = 0; e < valid; e++) {
            __global const float* kr = K + base + (size_t)(j0 + e) * HEAD_DIM;
            for (int c = 0; c < ND; c++) acc[c] = fma((floatD)(ds[e]), VLOADD(c, kr), acc[c]);
        }
    }
    for (int c = 0; c < ND; c++) VSTORED(acc[c] * scale, c, dQ + row);
}

__kernel void attn_bwd_kv_direct(__global float* dK, __global float* dV, __global const float* dO,
                                 __global const float* Q, __global const float* K, __global const float* V,
                                 __global const float* QT, __global const float* dOT, __global const float* L,
                                 __global const float* DELTA, const int n, const int np, const float scale) {
    const int j = get_global_id(0), bh = get_global_id(1);
    if (j >= n) return;
    const size_t base = (size_t)bh * n * HEAD_DIM, row = base + (size_t)j * HEAD_DIM;
    float k[HEAD_DIM], v[HEAD_DIM];
    for (int d = 0; d < HEAD_DIM; d++) {
        k[d] = K[row + d];
        v[d] = V[row + d];
    }
    floatD accK[ND], accV[ND];
    for (int c = 0; c < ND; c++) accK[c] = accV[c] = (floatD)(0.0f);
    __global const float* qt = QT + (size_t)bh * HEAD_DIM * np;
    __global const float* gt = dOT + (size_t)bh * HEAD_DIM * np;
    __global const float* lb = L + (size_t)bh * n;
    __global const float* db = DELTA + (size_t)bh * n;
    for (int i0 = 0; i0 < n; i0 += VK) {
        floatK s = (floatK)(0.0f), dp = (floatK)(0.0f);
        for (int d = 0; d < HEAD_DIM; d++) {
            s = fma((floatK)(k[d]), VLOADK(0, qt + (size_t)d * np + i0), s);
            dp = fma((floatK)(v[d]), VLOADK(0, gt + (size_t)d * np + i0), dp);
        }
        const int valid = min(VK, n - i0);
        const floatK p = exp(s * scale - load_masked(lb + i0, valid));
        float pa[VK], ds[VK];
        VSTOREK(p, 0, pa);
        VSTOREK(p * (dp - load_masked(db + i0, valid)), 0, ds);
        for (int e = 0; e < valid; e++) {
            __global const float* qr = Q + base + (size_t)(i0 + e) * HEAD_DIM;
            __global const float* gr = dO + base + (size_t)(i0 + e) * HEAD_DIM;
            for (int c = 0; c < ND; c++) {
                accV[c] = fma((floatD)(pa[e]), VLOADD(c, gr), accV[c]);
                accK[c] = fma((floatD)(ds[e]), VLOADD(c, qr), accK[c]);
            }
        }
    }
    for (int c = 0; c < ND; c++) {
        VSTORED(accV[c], c, dV + row);
        VSTORED(accK[c] * scale, c, dK + row);
    }
}
