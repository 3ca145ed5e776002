// Row-keyed twins of the fused sampler updates in diffusion.cl (sampler_step, sampler_step_clip_x0) and
// sampler_combine.cl (sampler_combine): the same formulas, with z drawn from a noise key per row
// (dev.diffuse.runtime.RowNoise) instead of one seed for the whole tensor:
//
//   z_i = normal(first_r + j) of stream `stream` under seed_r,   r = i / row_len, j = i % row_len
//
// so rows of different requests batched together each get the noise they would get alone (the pipeline keys image k
// of a request with seed S as (S, k * row_len)). keys: per row (seed.lo, seed.hi, first.lo, first.hi).
// The update formulas repeat those of the shared-seed kernels on purpose: they were added beside them, not into them,
// while those kernels were being tuned; folding both into one kernel with a key-source define is the clean-up.
//
//   sampler_step_rows           x' = a x + b m + b2 m2 + c z                     (m2 only when has_m2)
//   sampler_step_clip_x0_rows   x0 = clamp(p x + q m, lo, hi);  x' = a x + b x0 + d m + c z
//   sampler_combine_rows        x' = a x + sum_{k<K} b_k m_k + c z;  aux = p x + q m_0 (when has_aux)
//
// z is not drawn when c = 0. One work-item per element (a row need not start on a Philox block, so a block's four
// lanes may belong to two rows). Every input of an element is read before its outputs are written: out may alias x,
// aux may alias any m_k. Unused tensor arguments get any valid buffer. Launch: 1-D, global = n rounded up to WG.
// @include dev/diffuse/runtime/philox_rows.cl

#ifndef WG
#define WG 256
#endif

__kernel void sampler_step_rows(__global float* out, __global const float* x, __global const float* m,
                                __global const float* m2, const float a, const float b, const float b2, const float c,
                                const int has_m2, const long n, const long row_len, __global const uint4* keys,
                                const ulong stream) {
    long i = get_global_id(0);
    if (i >= n) return;
    float z = c != 0.0f ? row_normal(keys, row_len, i, stream) : 0.0f;
    float v = a * x[i] + b * m[i];
    if (has_m2) v += b2 * m2[i];
    out[i] = v + c * z;
}

__kernel void sampler_step_clip_x0_rows(__global float* out, __global const float* x, __global const float* m,
                                        const float p, const float q, const float lo, const float hi,
                                        const float a, const float b, const float d, const float c,
                                        const long n, const long row_len, __global const uint4* keys, const ulong stream) {
    long i = get_global_id(0);
    if (i >= n) return;
    float z = c != 0.0f ? row_normal(keys, row_len, i, stream) : 0.0f;
    float xi = x[i], mi = m[i];
    float x0 = clamp(p * xi + q * mi, lo, hi);
    out[i] = a * xi + b * x0 + d * mi + c * z;
}

__kernel void sampler_combine_rows(__global float* out, __global float* aux, __global const float* x,
                                   __global const float* m0, __global const float* m1, __global const float* m2,
                                   __global const float* m3, const int k, const float a, const float b0, const float b1,
                                   const float b2, const float b3, const float c, const float p, const float q,
                                   const int has_aux, const long n, const long row_len, __global const uint4* keys,
                                   const ulong stream) {
    long i = get_global_id(0);
    if (i >= n) return;
    float z = c != 0.0f ? row_normal(keys, row_len, i, stream) : 0.0f;
    float xi = x[i];
    float v = a * xi;
    float a0 = 0.0f;
    if (k > 0) { a0 = m0[i]; v += b0 * a0; }
    if (k > 1) v += b1 * m1[i];
    if (k > 2) v += b2 * m2[i];
    if (k > 3) v += b3 * m3[i];
    v += c * z;
    if (has_aux) aux[i] = p * xi + q * a0;
    out[i] = v;
}
