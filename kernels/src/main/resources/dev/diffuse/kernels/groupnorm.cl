// GroupNorm over x (B, C, H, W) NCHW contiguous, G groups of Cg = C/G contiguous channels, affine gamma/beta (C).
// A group (b, g) is ONE contiguous run of N = Cg*HW floats starting at (b*C + g*Cg)*HW.
//   forward:  mu, var = mean / biased variance over the group; rstd = 1/sqrt(var + eps)
//             xhat = (x - mu)*rstd;  z = xhat*gamma[c] + beta[c];  y = z  (groupnorm_forward)
//                                                                  y = z*sigmoid(z)  (groupnorm_silu_forward)
//   backward: dz = dy (plain) or dy*(s + z*s*(1-s)), s = sigmoid(z) (fused SiLU; z recomputed from x, mu, rstd)
//             dxhat = dz*gamma;  dx = rstd*(dxhat - mean_g(dxhat) - xhat*mean_g(dxhat*xhat))
//             per-channel partials P[0,b,c] = sum_hw dz*xhat, P[1,b,c] = sum_hw dz (groupnorm_backward)
//             dgamma[c] += sum_b P[0,b,c], dbeta[c] += sum_b P[1,b,c] in b order (groupnorm_param_backward)
// Kernels:
//   groupnorm_forward / groupnorm_silu_forward ("GroupNorm + SiLU (2->1)"): one work-group of WG per (b, g),
//     global = B*G*WG. Pass 1: per-item Welford (per float4 chunk when VEC == 4), merged in a fixed local-memory
//     tree (Chan's formula) -> mean, rstd saved to (B, G). Pass 2: re-reads the group (L2-resident) and writes y.
//   groupnorm_backward / groupnorm_silu_backward: one work-group per (b, g). Pass 1: the WG is split into
//     WG/TPC teams of TPC items, one channel per team per round; each team tree-reduces its channel's two sums.
//     Group sums follow from the channel sums (sum dxhat = sum_c gamma_c * P1, sum dxhat*xhat = sum_c gamma_c*P0).
//     Pass 2 writes dx.
//   groupnorm_param_backward: one work-item per channel, sums P over b in order. No atomics anywhere: every
//   result is bit-identical from run to run.
// Preconditions: VEC == 4 only when HW % 4 == 0 and every tensor's element offset % 4 == 0 (host checks);
//   WG and TPC powers of two, TPC <= WG.
// Tuning: WG (work-group size, 256), VEC (1 or 4: float4 loads).

#ifndef WG
#define WG 256
#endif
#ifndef VEC
#define VEC 1
#endif

#if VEC == 4
typedef float4 vec_t;
#define LOAD(p, j) (((__global const float4*)(p))[j])
#define STORE(p, j, v) (((__global float4*)(p))[j] = (v))
#define HSUM(v) (((v).x + (v).y) + ((v).z + (v).w))
#else
typedef float vec_t;
#define LOAD(p, j) ((p)[j])
#define STORE(p, j, v) ((p)[j] = (v))
#define HSUM(v) (v)
#endif

static inline vec_t silu_v(vec_t z) { return z / ((vec_t)1.0f + exp(-z)); }

// Chan et al. merge of (n, m, M2) with (nb, mb, Mb).
static inline void welford_merge(float* n, float* m, float* M, float nb, float mb, float Mb) {
    if (nb == 0.0f) return;
    if (*n == 0.0f) { *n = nb; *m = mb; *M = Mb; return; }
    float nn = *n + nb, d = mb - *m;
    *m += d * (nb / nn);
    *M += Mb + d * d * (*n * (nb / nn));
    *n = nn;
}

static inline void gn_forward(__global float* y, __global float* mean, __global float* rstd, __global const float* x,
                       __global const float* gamma, __global const float* beta,
                       const int C, const int HW, const int G, const float eps, const int fuse_silu,
                       __local float* ln, __local float* lm, __local float* lM) {
    const int bg = get_group_id(0), lid = get_local_id(0);
    const int b = bg / G, g = bg % G, Cg = C / G, N = Cg * HW, NV = N / VEC;
    const size_t base = ((size_t)b * C + (size_t)g * Cg) * HW;
    __global const float* xg = x + base;
    __global float* yg = y + base;

    float n = 0.0f, m = 0.0f, M = 0.0f;
    for (int j = lid; j < NV; j += WG) {
        vec_t v = LOAD(xg, j);
#if VEC == 4
        float mb = HSUM(v) * 0.25f;
        float4 d = v - mb;
        welford_merge(&n, &m, &M, 4.0f, mb, HSUM(d * d));
#else
        n += 1.0f;
        float d = v - m;
        m += d / n;
        M += d * (v - m);
#endif
    }
    ln[lid] = n; lm[lid] = m; lM[lid] = M;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = WG / 2; s > 0; s >>= 1) {
        if (lid < s) {
            float a = ln[lid], am = lm[lid], aM = lM[lid];
            welford_merge(&a, &am, &aM, ln[lid + s], lm[lid + s], lM[lid + s]);
            ln[lid] = a; lm[lid] = am; lM[lid] = aM;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float mu = lm[0], rs = rsqrt(lM[0] / (float)N + eps);
    if (lid == 0) { mean[bg] = mu; rstd[bg] = rs; }

    for (int j = lid; j < NV; j += WG) {
        const int c = g * Cg + (j * VEC) / HW;
        const float a = gamma[c] * rs;
        vec_t z = (LOAD(xg, j) - mu) * a + beta[c];
        if (fuse_silu) z = silu_v(z);
        STORE(yg, j, z);
    }
}

__kernel void groupnorm_forward(__global float* y, __global float* mean, __global float* rstd,
                                __global const float* x, __global const float* gamma, __global const float* beta,
                                const int C, const int HW, const int G, const float eps) {
    __local float ln[WG], lm[WG], lM[WG];
    gn_forward(y, mean, rstd, x, gamma, beta, C, HW, G, eps, 0, ln, lm, lM);
}

// GroupNorm + SiLU (2->1): y = silu(groupnorm(x)); saves the same mean/rstd as groupnorm_forward.
__kernel void groupnorm_silu_forward(__global float* y, __global float* mean, __global float* rstd,
                                     __global const float* x, __global const float* gamma, __global const float* beta,
                                     const int C, const int HW, const int G, const float eps) {
    __local float ln[WG], lm[WG], lM[WG];
    gn_forward(y, mean, rstd, x, gamma, beta, C, HW, G, eps, 1, ln, lm, lM);
}

// dz from the incoming gradient: identity, or SiLU' at z = xhat*gamma + beta.
static inline vec_t grad_z(vec_t dy, vec_t xh, float ga, float be, int fuse_silu) {
    if (!fuse_silu) return dy;
    vec_t z = xh * ga + be;
    vec_t s = (vec_t)1.0f / ((vec_t)1.0f + exp(-z));
    return dy * (s + z * s * ((vec_t)1.0f - s));
}

static inline void gn_backward(__global float* dx, __global float* part, __global const float* dy, __global const float* x,
                        __global const float* gamma, __global const float* beta,
                        __global const float* mean, __global const float* rstd,
                        const int B, const int C, const int HW, const int G, const int TPC, const int fuse_silu,
                        __local float* r0, __local float* r1) {
    const int bg = get_group_id(0), lid = get_local_id(0);
    const int b = bg / G, g = bg % G, Cg = C / G, N = Cg * HW, HWV = HW / VEC;
    const size_t base = ((size_t)b * C + (size_t)g * Cg) * HW;
    const float mu = mean[bg], rs = rstd[bg];
    const int CPR = WG / TPC, team = lid / TPC, t = lid % TPC;

    float S0 = 0.0f, S1 = 0.0f;   // sum dxhat*xhat, sum dxhat over the group (same value in every item)
    for (int c0 = 0; c0 < Cg; c0 += CPR) {
        const int cl = c0 + team;
        float p0 = 0.0f, p1 = 0.0f;
        if (cl < Cg) {
            const int c = g * Cg + cl;
            const float ga = gamma[c], be = beta[c];
            __global const float* xc = x + base + (size_t)cl * HW;
            __global const float* dyc = dy + base + (size_t)cl * HW;
            for (int j = t; j < HWV; j += TPC) {
                vec_t xh = (LOAD(xc, j) - mu) * rs;
                vec_t dz = grad_z(LOAD(dyc, j), xh, ga, be, fuse_silu);
                p0 += HSUM(dz * xh);
                p1 += HSUM(dz);
            }
        }
        r0[lid] = p0; r1[lid] = p1;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int s = TPC / 2; s > 0; s >>= 1) {
            if (t < s) { r0[lid] += r0[lid + s]; r1[lid] += r1[lid + s]; }
            barrier(CLK_LOCAL_MEM_FENCE);
        }
        for (int k = 0; k < CPR && c0 + k < Cg; k++) {
            const float ga = gamma[g * Cg + c0 + k];
            S0 += ga * r0[k * TPC];
            S1 += ga * r1[k * TPC];
        }
        if (t == 0 && cl < Cg) {
            part[(size_t)b * C + g * Cg + cl] = r0[lid];
            part[(size_t)B * C + (size_t)b * C + g * Cg + cl] = r1[lid];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    const float m0 = S0 / (float)N, m1 = S1 / (float)N;
    __global const float* xg = x + base;
    __global const float* dyg = dy + base;
    __global float* dxg = dx + base;
    for (int j = lid; j < N / VEC; j += WG) {
        const int c = g * Cg + (j * VEC) / HW;
        const float ga = gamma[c];
        vec_t xh = (LOAD(xg, j) - mu) * rs;
        vec_t dz = grad_z(LOAD(dyg, j), xh, ga, beta[c], fuse_silu);
        STORE(dxg, j, rs * (dz * ga - m1 - xh * m0));
    }
}

__kernel void groupnorm_backward(__global float* dx, __global float* part, __global const float* dy,
                                 __global const float* x, __global const float* gamma, __global const float* beta,
                                 __global const float* mean, __global const float* rstd,
                                 const int B, const int C, const int HW, const int G, const int TPC) {
    __local float r0[WG], r1[WG];
    gn_backward(dx, part, dy, x, gamma, beta, mean, rstd, B, C, HW, G, TPC, 0, r0, r1);
}

__kernel void groupnorm_silu_backward(__global float* dx, __global float* part, __global const float* dy,
                                      __global const float* x, __global const float* gamma, __global const float* beta,
                                      __global const float* mean, __global const float* rstd,
                                      const int B, const int C, const int HW, const int G, const int TPC) {
    __local float r0[WG], r1[WG];
    gn_backward(dx, part, dy, x, gamma, beta, mean, rstd, B, C, HW, G, TPC, 1, r0, r1);
}

// dgamma[c] += sum_b part[0,b,c]; dbeta[c] += sum_b part[1,b,c]; b ascending. Global = C (rounded up).
__kernel void groupnorm_param_backward(__global float* dgamma, __global float* dbeta, __global const float* part,
                                       const int B, const int C) {
    const int c = get_global_id(0);
    if (c >= C) return;
    float sg = 0.0f, sb = 0.0f;
    for (int b = 0; b < B; b++) {
        sg += part[(size_t)b * C + c];
        sb += part[(size_t)B * C + (size_t)b * C + c];
    }
    dgamma[c] += sg;
    dbeta[c] += sb;
}
