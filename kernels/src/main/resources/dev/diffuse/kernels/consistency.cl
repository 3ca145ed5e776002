// Consistency models (Song et al. 2023), EDM-style parameterisation, per-sample noise level sigma_b (B):
//   c_skip(s) = sd^2 / ((s - smin)^2 + sd^2)  computed as  1 - d^2 / (d^2 + sd^2),  d = s - smin
//               (the same number in exact arithmetic; written so that d = 0 gives exactly 1 even with a
//               non-correctly-rounded division, hence f(x, smin) = x bit for bit)
//   c_out(s)  = d sd / sqrt(s^2 + sd^2)         (exactly 0 at s = smin)
//   c_in(s)   = 1 / sqrt(s^2 + sd^2)           (network input scale, as EDM)
// Kernels (one work-item per element, b = i / per_sample):
//   cm_perturb:  out = x0 + sigma_b z_i, z_i = normal i of (seed, stream) (two calls with one stream share z)
//   cm_input:    out = c_in(sigma_b) x
//   cm_combine:  f = c_skip(sigma_b) x + c_out(sigma_b) F
//   cm_loss_backward: dF = c_out(sigma_b) * 2 (f - f_target) / n   (the MSE gradient through f, w.r.t. F only)
// Layout: tensors contiguous (B, per_sample); sigma (B). Preconditions (checked on the host): sigma >= smin.
// @include dev/diffuse/runtime/philox.cl

static inline float cm_skip(float s, float smin, float sd) {
    float d = s - smin, d2 = d * d, sd2 = sd * sd;
    return 1.0f - d2 / (d2 + sd2);
}

static inline float cm_out(float s, float smin, float sd) {
    return (s - smin) * sd / sqrt(s * s + sd * sd);
}

__kernel void cm_perturb(__global float* out, __global const float* x0, __global const float* sigma,
                         const int per_sample, const long n, const ulong seed, const ulong stream) {
    long i = get_global_id(0);
    if (i >= n) return;
    out[i] = x0[i] + sigma[i / per_sample] * philox_normal(seed, stream, (ulong)i);
}

__kernel void cm_input(__global float* out, __global const float* x, __global const float* sigma,
                       const int per_sample, const long n, const float sd) {
    long i = get_global_id(0);
    if (i >= n) return;
    float s = sigma[i / per_sample];
    out[i] = x[i] / sqrt(s * s + sd * sd);
}

__kernel void cm_combine(__global float* f, __global const float* x, __global const float* F, __global const float* sigma,
                         const int per_sample, const long n, const float smin, const float sd) {
    long i = get_global_id(0);
    if (i >= n) return;
    float s = sigma[i / per_sample];
    f[i] = cm_skip(s, smin, sd) * x[i] + cm_out(s, smin, sd) * F[i];
}

__kernel void cm_loss_backward(__global float* dF, __global const float* f, __global const float* ft,
                               __global const float* sigma, const int per_sample, const long n, const float smin,
                               const float sd, const float scale) {
    long i = get_global_id(0);
    if (i >= n) return;
    dF[i] = cm_out(sigma[i / per_sample], smin, sd) * (scale * (f[i] - ft[i]));
}
