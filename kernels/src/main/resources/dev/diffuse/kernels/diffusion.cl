// Fused diffusion updates: each is one pass over the data with the Gaussian noise drawn in the kernel from the
// counter-based stream (seed, stream), so no noise tensor is written or read and every device draws the same z.
//
//   q_sample         x_t = a[b] * x0 + s[b] * eps          per-sample coefficients a, s (B) for training with a
//                                                           random t per sample; eps given (drawn = 0) or drawn
//                                                           (drawn = 1, element i gets normal i of the stream and
//                                                           is also written to eps_out when it is not x0 itself)
//   sampler_step     x' = a x + b m + b2 m2 + c z           host-computed scalars; m2 only when has_m2 (Heun and
//                                                           multistep updates); z drawn only when c != 0
//   sampler_step_clip_x0
//                    x0 = clamp(p x + q m, lo, hi)          predicted x0 from the model output m, clipped
//                    x' = a x + b x0 + d m + c z            (DDPM posterior mean: d = 0; DDIM: a = 0)
//
// Layout: contiguous float arrays of n elements; for q_sample, element i belongs to sample i / per_sample.
// Each work-item handles one Philox block = 4 consecutive elements (tail guarded). Outputs may alias x.
// Launch: 1-D, global = ceil(n / 4) rounded up to WG.
// @include dev/diffuse/runtime/philox.cl

#ifndef WG
#define WG 256
#endif

__kernel void q_sample(__global float* out, __global float* eps_out, __global const float* x0,
                       __global const float* eps_in, __global const float* a, __global const float* s,
                       const int per_sample, const long n, const ulong seed, const ulong stream,
                       const int drawn, const int write_eps) {
    ulong block = get_global_id(0);
    long base = (long)block * 4;
    if (base >= n) return;
    float z[4] = {0, 0, 0, 0};
    if (drawn) {
        float4 v = philox_normal4(seed, stream, block);
        z[0] = v.x; z[1] = v.y; z[2] = v.z; z[3] = v.w;
    }
    for (int l = 0; l < 4; l++) {
        long i = base + l;
        if (i >= n) break;
        long b = i / per_sample;
        float e = drawn ? z[l] : eps_in[i];
        if (drawn && write_eps) eps_out[i] = e;
        out[i] = a[b] * x0[i] + s[b] * e;
    }
}

__kernel void sampler_step(__global float* out, __global const float* x, __global const float* m,
                           __global const float* m2, const float a, const float b, const float b2, const float c,
                           const int has_m2, const long n, const ulong seed, const ulong stream) {
    ulong block = get_global_id(0);
    long base = (long)block * 4;
    if (base >= n) return;
    float4 z = c != 0.0f ? philox_normal4(seed, stream, block) : (float4)(0.0f);
    float zz[4] = {z.x, z.y, z.z, z.w};
    for (int l = 0; l < 4; l++) {
        long i = base + l;
        if (i >= n) break;
        float v = a * x[i] + b * m[i];
        if (has_m2) v += b2 * m2[i];
        out[i] = v + c * zz[l];
    }
}

__kernel void sampler_step_clip_x0(__global float* out, __global const float* x, __global const float* m,
                                   const float p, const float q, const float lo, const float hi,
                                   const float a, const float b, const float d, const float c,
                                   const long n, const ulong seed, const ulong stream) {
    ulong block = get_global_id(0);
    long base = (long)block * 4;
    if (base >= n) return;
    float4 z = c != 0.0f ? philox_normal4(seed, stream, block) : (float4)(0.0f);
    float zz[4] = {z.x, z.y, z.z, z.w};
    for (int l = 0; l < 4; l++) {
        long i = base + l;
        if (i >= n) break;
        float xi = x[i], mi = m[i];
        float x0 = clamp(p * xi + q * mi, lo, hi);
        out[i] = a * xi + b * x0 + d * mi + c * zz[l];
    }
}
