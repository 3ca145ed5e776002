// diffusers-compatible scheduler steps (DDPMScheduler / DDIMScheduler, ../shared/spec/unet2d-diffusers.md §6.4-6.7)
// as one fused pass, plus the per-sample quantile that dynamic thresholding needs.
//
//   scheduler_step     x0 = p x + q m                          (epsilon / sample / v_prediction, host p, q)
//                      x0 = clamp(x0, -s_b, s_b) / s_b          (mode 2: dynamic threshold s_b = thr[b])
//                         | clamp(x0, lo, hi)                   (mode 1: clip_sample)
//                      std = c                                  (var_mode 0: host-computed, fixed variances)
//                          | sqrt(v)                            (var_mode 1: "learned", v = second half of m)
//                          | exp((f ln_beta + (1-f) ln_var) / 2), f = (v + 1) / 2   (var_mode 2: "learned_range")
//                      x' = a x + b x0 + d m + std z            (z drawn only when noisy != 0)
//                      x0_out = x0 when write_x0 != 0
//     DDPM: a = c_t, b = c_0, d = 0.  DDIM: a = dir ex, b = sqrt(a_p), d = dir em (eps = ex x + em m), or with
//     use_clipped_model_output a = dir / sqrt(b_t), b = sqrt(a_p) - dir sqrt(a_t) / sqrt(b_t), d = 0.
//   abs_quantile       thr[b] = clamp(lerp(u[lo], u[hi], w), 1, smax), u = sorted |p x + q m| of sample b
//                      (torch.quantile's linear interpolation; lo = floor(rank), hi = ceil(rank), w = rank - lo)
//
// Layout: x, out, x0_out contiguous (B, per_sample); m is (B, m_stride) with the prediction in the first per_sample
// values of each row and, for learned variances, v in the next per_sample values (m_stride = 2 per_sample: a model
// output with twice the channels, split as diffusers does). out may alias x.
// scheduler_step: one work-item per 4 consecutive elements (one Philox block, the same z as sampler_step).
// abs_quantile: one work-group of QWG per sample; an exact radix select on the float bits (|v| >= 0 orders like its
// uint bits): 4 passes of 8 bits, each a 256-bin histogram of the surviving prefix built with local integer atomics
// (counts are exact, so the result is deterministic), then a serial scan by work-item 0. Run once per rank.
// Preconditions: 1 <= hi rank < per_sample, NaN-free input (NaN bits sort above +inf).
// @include dev/diffuse/runtime/philox.cl
// @include dev/diffuse/kernels/scheduler_element.cl

#ifndef QWG
#define QWG 256
#endif

__kernel void scheduler_step(__global float* out, __global float* x0_out, __global const float* x,
                             __global const float* m, __global const float* thr,
                             const float p, const float q, const float lo, const float hi,
                             const float a, const float b, const float d, const float c,
                             const float ln_beta, const float ln_var,
                             const int mode, const int var_mode, const int noisy, const int write_x0,
                             const int per_sample, const int m_stride, const long n,
                             const ulong seed, const ulong stream) {
    ulong block = get_global_id(0);
    long base = (long)block * 4;
    if (base >= n) return;
    float4 z = noisy ? philox_normal4(seed, stream, block) : (float4)(0.0f);
    float zz[4] = {z.x, z.y, z.z, z.w};
    for (int l = 0; l < 4; l++) {
        long i = base + l;
        if (i >= n) break;
        scheduler_element(out, x0_out, x, m, thr, p, q, lo, hi, a, b, d, c, ln_beta, ln_var, mode, var_mode, noisy,
                          write_x0, per_sample, m_stride, i, zz[l]);
    }
}

// The bits of |p x + q m| for element j of the sample starting at xs / ms.
static inline uint key_of(__global const float* xs, __global const float* ms, const float p, const float q, int j) {
    return as_uint(fabs(p * xs[j] + q * ms[j]));
}

// The rank-th smallest key (0-based) of the sample; every work-item returns it.
uint radix_select(__global const float* xs, __global const float* ms, const float p, const float q,
                  const int per_sample, int rank, __local int* hist, __local uint* shared) {
    int lid = get_local_id(0);
    uint prefix = 0, mask = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        for (int h = lid; h < 256; h += QWG) hist[h] = 0;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int j = lid; j < per_sample; j += QWG) {
            uint k = key_of(xs, ms, p, q, j);
            if ((k & mask) == prefix) atomic_inc(&hist[(k >> shift) & 255u]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (lid == 0) {
            int below = 0, digit = 0;
            while (below + hist[digit] <= rank) { below += hist[digit]; digit++; }
            shared[0] = (uint)digit;
            shared[1] = (uint)(rank - below);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        prefix |= shared[0] << shift;
        mask |= 255u << shift;
        rank = (int)shared[1];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return prefix;
}

__kernel void abs_quantile(__global float* thr, __global const float* x, __global const float* m,
                           const float p, const float q, const int per_sample, const int m_stride,
                           const int rank_lo, const int rank_hi, const float w, const float smax) {
    __local int hist[256];
    __local uint shared[2];
    int smp = get_group_id(0);
    __global const float* xs = x + (long)smp * per_sample;
    __global const float* ms = m + (long)smp * m_stride;
    float u0 = as_float(radix_select(xs, ms, p, q, per_sample, rank_lo, hist, shared));
    float u1 = rank_hi == rank_lo ? u0 : as_float(radix_select(xs, ms, p, q, per_sample, rank_hi, hist, shared));
    // torch.lerp: start + w (end - start) for w < 0.5, else end - (end - start) (1 - w)
    float s = w < 0.5f ? u0 + w * (u1 - u0) : u1 - (u1 - u0) * (1.0f - w);
    if (get_local_id(0) == 0) thr[smp] = fmin(fmax(s, 1.0f), smax);
}
