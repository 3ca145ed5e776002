// A sampler step with per-sample coefficients: distillation moves every sample of a batch between its own pair of
// noise levels, so the scalars of sampler_step_clip_x0 (diffusion.cl) become one row per sample.
//   per_sample_step_clip_x0:  x0 = clamp(p_b x + q_b m, lo, hi);   x' = a_b x + b_b x0 + d_b m
//   coefficients: (5, B) row-major: a, b, d, p, q (row r at r * B); b = i / per_sample.
//   E.g. a DDIM step (eta 0) of an epsilon model m from t to s with x0 clipped to [-1, 1]:
//        p = 1 / sqrt(ab_t), q = -sqrt(1 - ab_t) / sqrt(ab_t), a = 0, b = sqrt(ab_s), d = sqrt(1 - ab_s).
// No noise term and no gradient (it is the teacher's side of distillation). Output may alias x.
// One work-item per element.

__kernel void per_sample_step_clip_x0(__global float* out, __global const float* x, __global const float* m,
                                      __global const float* coef, const int batch, const int per_sample,
                                      const long n, const float lo, const float hi) {
    long i = get_global_id(0);
    if (i >= n) return;
    int b = (int)(i / per_sample);
    float a = coef[b], bb = coef[batch + b], d = coef[2 * batch + b], p = coef[3 * batch + b], q = coef[4 * batch + b];
    float xi = x[i], mi = m[i];
    float x0 = clamp(p * xi + q * mi, lo, hi);
    out[i] = a * xi + bb * x0 + d * mi;
}
