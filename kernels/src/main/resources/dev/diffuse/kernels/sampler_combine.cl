// Fused updates for higher-order and adaptive samplers (companions of diffusion.cl's sampler_step).
//
//   sampler_combine   out = a x + sum_{k<K} b_k m_k + c z          K = 0..4 extra tensors (RK4's four stages,
//                     aux = p x + q m_0        (when has_aux)       DPM-Solver++(2M)'s current output and previous
//                                                                   x0); aux keeps a derived tensor (the x0
//                                                                   prediction) for the next step in the same pass
//   langevin_correct  eps = two_alpha_r2 * ss_z[0] / (g_scale2 * ss_g[0])        (0 when the score norm is 0)
//                     out = x + eps (gx x + gg g) + sqrt(2 eps) z
//                     Song et al.'s Langevin corrector with step 2 alpha (r ||z|| / ||score||)^2; the two squared
//                     norms are 1-element device tensors (deterministic reductions), so the step size never visits
//                     the host. The score is gx x + gg g, ||score||^2 = g_scale2 * ss_g (g_scale2 = gg^2 when
//                     gx = 0 and ss_g = ||g||^2; 1 when ss_g was reduced from the materialised score).
//
// z in sampler_combine is normal number i (element index) of stream `stream` under `seed` (drawn only when c != 0);
// in langevin_correct it is a tensor (the norm needs it materialised anyway).
// Layout: contiguous float arrays of n elements. Each work-item handles one Philox block = 4 consecutive elements
// (tail guarded). Every input of an element is read before its outputs are written, so out may alias x and aux may
// alias any m_k (DPM-Solver++ overwrites the previous x0 with the current one).
// Unused tensor arguments get any valid buffer; they are never read. Launch: 1-D, global = ceil(n / 4) rounded to WG.
// Bytes moved per element: 4 (K + 2) + 4 has_aux for sampler_combine; 16 for langevin_correct.
// @include dev/diffuse/runtime/philox.cl

#ifndef WG
#define WG 256
#endif

__kernel void sampler_combine(__global float* out, __global float* aux, __global const float* x,
                              __global const float* m0, __global const float* m1, __global const float* m2,
                              __global const float* m3, const int k, const float a, const float b0, const float b1,
                              const float b2, const float b3, const float c, const float p, const float q,
                              const int has_aux, const long n, const ulong seed, const ulong stream) {
    ulong block = get_global_id(0);
    long base = (long)block * 4;
    if (base >= n) return;
    float4 z = c != 0.0f ? philox_normal4(seed, stream, block) : (float4)(0.0f);
    float zz[4] = {z.x, z.y, z.z, z.w};
    for (int l = 0; l < 4; l++) {
        long i = base + l;
        if (i >= n) break;
        float xi = x[i];
        float v = a * xi;
        float a0 = 0.0f;
        if (k > 0) { a0 = m0[i]; v += b0 * a0; }
        if (k > 1) v += b1 * m1[i];
        if (k > 2) v += b2 * m2[i];
        if (k > 3) v += b3 * m3[i];
        v += c * zz[l];
        if (has_aux) aux[i] = p * xi + q * a0;
        out[i] = v;
    }
}

__kernel void langevin_correct(__global float* out, __global const float* x, __global const float* g,
                               __global const float* z, __global const float* ss_z, __global const float* ss_g,
                               const float gx, const float gg, const float g_scale2, const float two_alpha_r2,
                               const long n) {
    ulong block = get_global_id(0);
    long base = (long)block * 4;
    if (base >= n) return;
    float sg = g_scale2 * ss_g[0];
    float eps = sg > 0.0f ? two_alpha_r2 * ss_z[0] / sg : 0.0f;
    float noise = sqrt(2.0f * eps);
    for (int l = 0; l < 4; l++) {
        long i = base + l;
        if (i >= n) break;
        float xi = x[i];
        out[i] = xi + eps * (gx * xi + gg * g[i]) + noise * z[i];
    }
}
