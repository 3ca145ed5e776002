// Direct convolution for CPU-like OpenCL devices (PoCL): no local memory, no barriers; each work-item keeps a
// register block of explicit vectors (float4/8/16) over consecutive output pixels of one row, so the compiler emits
// plain SIMD code (PoCL vectorises across work-items only when nothing blocks it; explicit vectors always work).
// Same maths as conv2d.cl (see there and Conv2d's Javadoc); the zero padding is materialised first, so the inner
// loops have no bounds checks:
//   conv2d_pad       xp[b,c,r,q] = x[b,c,(r-PT)/DIL,(q-PL)/DIL] where both divide exactly and fall inside x, else 0
//                    (DIL = 1: plain zero padding). xp is (BC, Hp, Wp); 1-D, one item per row.
//   conv2d_flip      wf[ci,co,kh,kw] = w[co,ci,K-1-kh,K-1-kw]: with it, dx of a stride-S conv is a stride-1 forward
//                    conv of dy dilated by S (D[j] = dy[j/S] when S divides j, else 0) and padded by K-1-PT, K-1-PL:
//                    dx[ih] = sum_kh w[kh] D[ih+PT-kh] = sum_kh' wf[kh'] D[ih+kh'-(K-1-PT)]  (kh' = K-1-kh).
//   conv2d_forward_direct  y[b,m,oh,ow] = bias[m] + sum_{ci,kh,kw} w[m,ci,kh,kw] xp[b,ci,oh*S+kh,ow*S+kw]
//                    work-item (g0 = (b*OH + oh)*OWBLK + ob, g1 = m-block): RM output channels x RN vectors of VW
//                    pixels ow = ob*RN*VW ... (the row padded to OWBLK*RN*VW; lanes past OW are computed on padding
//                    and not stored). Needs Wp >= S*OWBLK*RN*VW + K - 1, Hp >= (OH-1)*S + K.
//   conv2d_backward_weight_direct  dst[m,ci,kh,kw] (+)= sum_{b in split, oh, ow} dyp[b,m,oh,ow] xp[b,ci,oh*S+kh,ow*S+kw]
//                    work-item (g0 = ci, g1 = m-block, g2 = split of the batch): RM x K*K vector accumulators over
//                    VW pixels, summed across lanes at the end (fixed order: deterministic). dyp is dy padded with
//                    zero columns to OWB = a multiple of VW, so padding lanes add 0. With one split it ACCUMULATES
//                    into dw, else it WRITES partial[s] (conv2d_reduce_splits in conv2d.cl adds them in order).
// Tuning: RM (output channels per item), VW (4, 8 or 16 lanes; 4 or 8 when S = 2: a stride-2 row is the even lanes
// of a 2*VW load), RN (vectors per item along the row), K and S (kernel size, stride) are compile-time so the tap
// loops unroll; HAS_BIAS.

#ifndef RM
#define RM 8
#endif
#ifndef VW
#define VW 8
#endif
#ifndef RN
#define RN 1
#endif
#ifndef K
#define K 3
#endif
#ifndef S
#define S 1
#endif
#ifndef HAS_BIAS
#define HAS_BIAS 1
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define floatV CAT(float, VW)
#define VLOAD CAT(vload, VW)
#define VSTORE CAT(vstore, VW)
#if S == 1
#define LOADX(p) VLOAD(0, p)
#elif S == 2 && VW == 4
#define LOADX(p) (vload8(0, p).even)
#elif S == 2 && VW == 8
#define LOADX(p) (vload16(0, p).even)
#else
#error "conv2d_direct.cl: stride 1 takes VW 4, 8 or 16; stride 2 takes VW 4 or 8"
#endif

#if VW == 4
#define HSUM(v) (((v).s0 + (v).s1) + ((v).s2 + (v).s3))
#elif VW == 8
#define HSUM(v) ((((v).s0 + (v).s1) + ((v).s2 + (v).s3)) + (((v).s4 + (v).s5) + ((v).s6 + (v).s7)))
#else
#define HSUM(v) hsum16(v)
static inline float hsum16(float16 v) {
    float8 a = v.lo + v.hi;
    float4 b = a.lo + a.hi;
    return (b.s0 + b.s1) + (b.s2 + b.s3);
}
#endif

__kernel void conv2d_pad(__global float* xp, __global const float* x, const int BC, const int H, const int W,
                         const int Hp, const int Wp, const int PT, const int PL, const int DIL) {
    const int row = get_global_id(0);           // one padded row per work-item: no per-element index maths
    if (row >= BC * Hp) return;
    const int r = row % Hp, bc = row / Hp, ih = r - PT;
    __global float* out = xp + (size_t)row * Wp;
    if (ih < 0 || ih % DIL != 0 || ih / DIL >= H) {
        for (int q = 0; q < Wp; q++) out[q] = 0.0f;
        return;
    }
    __global const float* in = x + ((size_t)bc * H + ih / DIL) * W;
    if (DIL == 1) {
        const int end = min(W + PL, Wp);
        for (int q = 0; q < PL; q++) out[q] = 0.0f;
        for (int q = PL; q < end; q++) out[q] = in[q - PL];
        for (int q = end; q < Wp; q++) out[q] = 0.0f;
    } else {
        for (int q = 0; q < Wp; q++) {
            const int iw = q - PL;
            out[q] = (iw >= 0 && iw % DIL == 0 && iw / DIL < W) ? in[iw / DIL] : 0.0f;
        }
    }
}

__kernel void conv2d_flip(__global float* wf, __global const float* w, const int Cout, const int Cin) {
    const int i = get_global_id(0);
    if (i >= Cout * Cin * K * K) return;
    const int kw = i % K, kh = (i / K) % K, co = (i / (K * K)) % Cout, ci = i / (K * K * Cout);
    wf[i] = w[((co * Cin + ci) * K + (K - 1 - kh)) * K + (K - 1 - kw)];
}

__kernel void conv2d_forward_direct(__global float* y, __global const float* xp, __global const float* w,
                                    __global const float* bias, const int B, const int Cin, const int Hp,
                                    const int Wp, const int Cout, const int OH, const int OW, const int OWBLK) {
    const int g = get_global_id(0), m0 = get_global_id(1) * RM;
    if (g >= B * OH * OWBLK || m0 >= Cout) return;
    const int ob = g % OWBLK, t = g / OWBLK, oh = t % OH, b = t / OH, ow0 = ob * RN * VW;
    floatV acc[RM][RN];
    int wrow[RM];
    for (int i = 0; i < RM; i++) {
        wrow[i] = min(m0 + i, Cout - 1) * Cin * K * K;   // rows past Cout repeat the last one; never stored
        for (int j = 0; j < RN; j++) acc[i][j] = (floatV)(0.0f);
    }
    __global const float* xb = xp + (size_t)b * Cin * Hp * Wp + (size_t)(oh * S) * Wp + ow0 * S;
    for (int ci = 0; ci < Cin; ci++) {
        __global const float* xc = xb + (size_t)ci * Hp * Wp;
        #pragma unroll
        for (int kh = 0; kh < K; kh++) {
            #pragma unroll
            for (int kw = 0; kw < K; kw++) {
                floatV xv[RN];
                #pragma unroll
                for (int j = 0; j < RN; j++) xv[j] = LOADX(xc + kh * Wp + kw + j * VW * S);
                const int tap = (ci * K + kh) * K + kw;
                #pragma unroll
                for (int i = 0; i < RM; i++) {
                    const floatV wv = (floatV)(w[wrow[i] + tap]);
                    #pragma unroll
                    for (int j = 0; j < RN; j++) acc[i][j] = fma(wv, xv[j], acc[i][j]);
                }
            }
        }
    }
    for (int i = 0; i < RM && m0 + i < Cout; i++) {
        const int m = m0 + i;
        __global float* yr = y + (((size_t)b * Cout + m) * OH + oh) * OW;
#if HAS_BIAS
        const float bv = bias[m];
#else
        const float bv = 0.0f;
#endif
        for (int j = 0; j < RN; j++) {
            const int o = ow0 + j * VW;
            const floatV v = acc[i][j] + bv;
            if (o + VW <= OW) {
                VSTORE(v, 0, yr + o);
            } else {
                float tail[VW];
                VSTORE(v, 0, tail);
                for (int l = 0; l < VW && o + l < OW; l++) yr[o + l] = tail[l];
            }
        }
    }
}

__kernel void conv2d_backward_weight_direct(__global float* dst, __global const float* dyp, __global const float* xp,
                                            const int B, const int Cin, const int Hp, const int Wp, const int Cout,
                                            const int OH, const int OWB, const int bChunk, const int accumulate) {
    const int ci = get_global_id(0), m0 = get_global_id(1) * RM, s = get_global_id(2);
    if (ci >= Cin || m0 >= Cout) return;
    const int bBeg = s * bChunk, bEnd = min(B, bBeg + bChunk);
    floatV acc[RM][K * K];
    for (int i = 0; i < RM; i++)
        for (int k = 0; k < K * K; k++) acc[i][k] = (floatV)(0.0f);
    for (int b = bBeg; b < bEnd; b++) {
        __global const float* xc = xp + ((size_t)b * Cin + ci) * Hp * Wp;
        for (int oh = 0; oh < OH; oh++) {
            __global const float* xr = xc + (size_t)(oh * S) * Wp;
            for (int o = 0; o < OWB; o += VW) {
                floatV dv[RM];
                #pragma unroll
                for (int i = 0; i < RM; i++)
                    dv[i] = VLOAD(0, dyp + (((size_t)b * Cout + min(m0 + i, Cout - 1)) * OH + oh) * OWB + o);
                #pragma unroll
                for (int kh = 0; kh < K; kh++) {
                    #pragma unroll
                    for (int kw = 0; kw < K; kw++) {
                        const floatV xv = LOADX(xr + kh * Wp + o * S + kw);
                        #pragma unroll
                        for (int i = 0; i < RM; i++) acc[i][kh * K + kw] = fma(dv[i], xv, acc[i][kh * K + kw]);
                    }
                }
            }
        }
    }
    const size_t count = (size_t)Cout * Cin * K * K;
    __global float* out = accumulate ? dst : dst + s * count;
    for (int i = 0; i < RM && m0 + i < Cout; i++)
        for (int k = 0; k < K * K; k++) {
            const size_t at = ((size_t)(m0 + i) * Cin + ci) * K * K + k;
            const float v = HSUM(acc[i][k]);
            if (accumulate) out[at] += v;
            else out[at] = v;
        }
}
