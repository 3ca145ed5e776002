// Sinusoidal timestep embedding, diffusers get_timestep_embedding (spec unet2d-diffusers.md §3.2).
//   half = dim/2;  e_k = f32(f32(-ln(max_period)) * k) / f32(half - downscale_freq_shift);  freq_k = f32(exp(e_k))
//   arg = f32(f32(t_b * freq_k) * scale);  out[b] = [sin(arg_0..half-1), cos(arg_0..half-1)]
//   flip_sin_to_cos: halves swapped (cos first);  dim odd: out[b, dim-1] = 0.
// Layout: timesteps (B) float, out (B, dim) row-major. One work-item per output element; global = B*dim rounded up.
// Precision: every rounding step above is float32 as in PyTorch; exp, sin and cos are evaluated in double when the
// device has cl_khr_fp64 (then rounded once, matching the Java reference), else in float (few-ulp differences).
// Host passes neg_log_max_period = f32(-ln(max_period)) and denom = f32(half - downscale_freq_shift).

#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#define REAL double
#else
#define REAL float
#endif

__kernel void timestep_embedding(__global float* out, __global const float* timesteps, const int dim, const int n,
                                 const float neg_log_max_period, const float denom, const float scale, const int flip) {
    int i = get_global_id(0);
    if (i >= n) return;
    int b = i / dim, j = i - b * dim, hd = dim / 2;
    if (j >= 2 * hd) { out[i] = 0.0f; return; }
    int second = j >= hd, k = second ? j - hd : j;
    float e = (float)((REAL)(neg_log_max_period * (float)k) / (REAL)denom);
    float freq = (float)exp((REAL)e);
    float arg = (timesteps[b] * freq) * scale;
    int use_cos = second != flip;   // unflipped: [sin, cos]; flipped: [cos, sin]
    out[i] = use_cos ? (float)cos((REAL)arg) : (float)sin((REAL)arg);
}
