// The VAE's diagonal Gaussian posterior (diffusers' DiagonalGaussianDistribution), reparameterised sampling and KL.
//   moments (B, 2L, S): mean = channels 0..L-1, logvar = channels L..2L-1 (S = H*W values per channel)
//   lv = clamp(logvar, -30, 20),  std = exp(lv / 2),  eps_i = normal i of (seed, stream)  (i = index into z)
//   posterior_sample:   z = mean + noise * std * eps                         (noise 1: a sample; 0: the mode, no RNG)
//                       kl = 0.5 (mean^2 + exp(lv) - 1 - lv)  per element   (optional: kl_out may be written or skipped)
//   posterior_backward: with the loss  L(z) + w * sum(kl):
//                       dmean   = dz + w * mean
//                       dlogvar = [-30 <= logvar <= 20] (dz * eps * std / 2 + w * (exp(lv) - 1) / 2)
//                       (torch.clamp passes the gradient on the closed range and stops it outside)
// One work-item per element of z (B * L * S); b = i / (L S), r = i % (L S); mean at b 2LS + r, logvar at b 2LS + LS + r.
// @include dev/diffuse/runtime/philox.cl

#define LV_MIN -30.0f
#define LV_MAX 20.0f

__kernel void posterior_sample(__global float* z, __global float* kl, __global const float* moments,
                               const long ls, const long n, const float noise, const int write_kl,
                               const ulong seed, const ulong stream) {
    long i = get_global_id(0);
    if (i >= n) return;
    long m = (i / ls) * 2 * ls + i % ls;
    float mean = moments[m], lv = clamp(moments[m + ls], LV_MIN, LV_MAX);
    float std = exp(0.5f * lv);
    float e = noise != 0.0f ? philox_normal(seed, stream, (ulong)i) : 0.0f;
    z[i] = mean + noise * std * e;
    if (write_kl) kl[i] = 0.5f * (mean * mean + std * std - 1.0f - lv);
}

__kernel void posterior_backward(__global float* dmoments, __global const float* dz, __global const float* moments,
                                 const long ls, const long n, const float w, const ulong seed, const ulong stream) {
    long i = get_global_id(0);
    if (i >= n) return;
    long m = (i / ls) * 2 * ls + i % ls;
    float mean = moments[m], raw = moments[m + ls];
    float lv = clamp(raw, LV_MIN, LV_MAX), std = exp(0.5f * lv), g = dz[i];
    dmoments[m] = g + w * mean;
    float e = philox_normal(seed, stream, (ulong)i);
    dmoments[m + ls] = (raw >= LV_MIN && raw <= LV_MAX) ? 0.5f * (g * e * std + w * (std * std - 1.0f)) : 0.0f;
}
