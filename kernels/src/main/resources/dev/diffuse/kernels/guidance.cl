// Classifier-free guidance (Ho and Salimans 2022) on a batched model output, and CFG rescale (Lin et al. 2024 §3.4).
//
// Layout: m is the output of ONE forward over a 2B batch (B conditional rows, then the same B rows with the null
// label): m (2B, n); out (B, n), contiguous. With c = m[b], u = m[B + b]:
//   cfg_combine   out = (1 + w) c - w u                                      (one work-item per element)
//   cfg_rescale   g = (1 + w) c - w u;  r = std(c) / std(g)  (per sample over its n values)
//                 out = phi r g + (1 - phi) g                                 (one work-group of RWG per sample)
// std's 1/(n-1) cancels in the ratio; a sample with std(g) = 0 keeps r = 1. Statistics are two-pass (mean, then
// centred squares) with each work-item striding the sample in a fixed order and a fixed local tree: deterministic.
// The rescale reads the sample three times (mean, variance, write); on an H100 the rows stay in L2 for any U-Net
// sample (3*32*32 .. 4*128*128 floats), so it costs about one extra pass of DRAM traffic over cfg_combine.
// Tuning: RWG (power of two, <= 1024).

#ifndef RWG
#define RWG 256
#endif

__kernel void cfg_combine(__global float* out, __global const float* m, const float w, const long bn) {
    long i = get_global_id(0);
    if (i >= bn) return;
    out[i] = (1.0f + w) * m[i] - w * m[bn + i];
}

// Sum over the work-group of v (fixed tree); every work-item gets the total.
static inline float2 group_sum2(float2 v, __local float2* scratch) {
    int lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = RWG / 2; s > 0; s >>= 1) {
        if (lid < s) scratch[lid] += scratch[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float2 r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

__kernel void cfg_rescale(__global float* out, __global const float* m, const float w, const float phi,
                          const int n, const int batch) {
    __local float2 scratch[RWG];
    int b = get_group_id(0), lid = get_local_id(0);
    __global const float* c = m + (long)b * n;
    __global const float* u = m + (long)(batch + b) * n;
    float2 acc = (float2)(0.0f);
    for (int j = lid; j < n; j += RWG) {
        float cj = c[j], gj = (1.0f + w) * cj - w * u[j];
        acc += (float2)(cj, gj);
    }
    float2 mean = group_sum2(acc, scratch) / (float)n;
    acc = (float2)(0.0f);
    for (int j = lid; j < n; j += RWG) {
        float cj = c[j], gj = (1.0f + w) * cj - w * u[j];
        float2 d = (float2)(cj, gj) - mean;
        acc += d * d;
    }
    float2 var = group_sum2(acc, scratch);
    float r = var.y > 0.0f ? sqrt(var.x / var.y) : 1.0f;
    float k = phi * r + (1.0f - phi);
    __global float* o = out + (long)b * n;
    for (int j = lid; j < n; j += RWG) o[j] = k * ((1.0f + w) * c[j] - w * u[j]);
}
