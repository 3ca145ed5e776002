// Row-keyed twin of scheduler.cl's scheduler_step (diffusers' DDPM / DDIM step): the same formula, with z drawn from
// a noise key per row (dev.diffuse.runtime.RowNoise): z_i = normal(first_r + j) of stream `stream` under seed_r with
// r = i / per_sample, j = i % per_sample (one row = one sample). keys: per row (seed.lo, seed.hi, first.lo, first.hi).
// The per-element formula is scheduler_element.cl's, shared with scheduler_step.
//
// Layout as scheduler.cl (m is (B, m_stride)). One work-item per element; out may alias x.
// Launch: 1-D, global = n rounded up to the work-group.
// @include dev/diffuse/runtime/philox_rows.cl
// @include dev/diffuse/kernels/scheduler_element.cl

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
    scheduler_element(out, x0_out, x, m, thr, p, q, lo, hi, a, b, d, c, ln_beta, ln_var, mode, var_mode, noisy,
                      write_x0, per_sample, m_stride, i, z);
}
