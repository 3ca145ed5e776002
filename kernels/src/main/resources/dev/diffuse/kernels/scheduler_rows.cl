// Row-keyed twin of scheduler.cl's scheduler_step (diffusers' DDPM / DDIM step): the same formula, with z drawn from
// a noise key per row (dev.diffuse.runtime.RowNoise): z_i = normal(first_r + j) of stream `stream` under seed_r with
// r = i / per_sample, j = i % per_sample (one row = one sample). keys: per row (seed.lo, seed.hi, first.lo, first.hi).
// The formula repeats scheduler_step's on purpose (added beside it while it was being tuned; to be folded into one
// kernel with a key-source define).
//
//   x0 = p x + q m;  x0 = clamp(x0, -s_b, s_b) / s_b (mode 2) | clamp(x0, lo, hi) (mode 1)
//   std = c | sqrt(v) | exp((f ln_beta + (1-f) ln_var) / 2), f = (v + 1) / 2     (var_mode 0 | 1 | 2)
//   x' = a x + b x0 + d m + std z   (z only when noisy);  x0_out = x0 when write_x0
//
// Layout as scheduler.cl (m is (B, m_stride)). One work-item per element; out may alias x.
// Launch: 1-D, global = n rounded up to the work-group.
// @include dev/diffuse/runtime/philox_rows.cl

__kernel void scheduler_step_rows(__global float* out, __global float* x0_out, __global const float* x,
                                  __global const float* m, __global const float* thr,
                                  const float p, const float q, const float lo, const float hi,
                                  const float a, const float b, const float d, const float c,
                                  const float ln_beta, const float ln_var,
                                  const int mode, const int var_mode, const int noisy, const int write_x0,
                                  const int per_sample, const int m_stride, const long n,
                                  __global const uint4* keys, const ulong stream) {
    long i = get_global_id(0);
    if (i >= n) return;
    float z = noisy ? row_normal(keys, per_sample, i, stream) : 0.0f;
    long smp = i / per_sample;
    long j = i - smp * per_sample;
    long mi = smp * m_stride + j;
    float xi = x[i], mv = m[mi];
    float x0 = p * xi + q * mv;
    if (mode == 2) {
        float s = thr[smp];
        x0 = clamp(x0, -s, s) / s;
    } else if (mode == 1) {
        x0 = clamp(x0, lo, hi);
    }
    float std = c;
    if (var_mode == 1) {
        std = sqrt(m[mi + per_sample]);
    } else if (var_mode == 2) {
        float f = (m[mi + per_sample] + 1.0f) * 0.5f;
        std = exp(0.5f * (f * ln_beta + (1.0f - f) * ln_var));
    }
    if (write_x0) x0_out[i] = x0;
    out[i] = a * xi + b * x0 + d * mv + (noisy ? std * z : 0.0f);
}
