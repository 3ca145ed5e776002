// One element of diffusers' scheduler step, shared by scheduler.cl (one seed per tensor) and scheduler_rows.cl (a
// noise key per row); scheduler.cl's header derives the formula:
//   x0 = p x + q m;  x0 = clamp(x0, -s_b, s_b) / s_b (mode 2) | clamp(x0, lo, hi) (mode 1)
//   std = c | sqrt(v) | exp((f ln_beta + (1-f) ln_var) / 2), f = (v + 1) / 2     (var_mode 0 | 1 | 2)
//   out_i = a x + b x0 + d m + std z   (z only when noisy);  x0_out_i = x0 when write_x0
// Element i reads x[i], m's row entry and thr before it writes out[i], so out may alias x.
void scheduler_element(__global float* out, __global float* x0_out, __global const float* x,
                       __global const float* m, __global const float* thr,
                       const float p, const float q, const float lo, const float hi,
                       const float a, const float b, const float d, const float c,
                       const float ln_beta, const float ln_var,
                       const int mode, const int var_mode, const int noisy, const int write_x0,
                       const int per_sample, const int m_stride, const long i, const float z) {
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
