// Optimizer kernels over one contiguous parameter slab (all model parameters back to back), n floats.
//
// adamw: one work-item per element, PyTorch torch.optim.AdamW (amsgrad=False, maximize=False) with host-computed
//   scalars (all derived in double on the host, then rounded to float, as PyTorch does with Python scalars):
//     decay = 1 - lr*wd, omb1 = 1 - beta1, omb2 = 1 - beta2, stepSize = lr / (1 - beta1^t),
//     bc2Sqrt = sqrt(1 - beta2^t).
//   Per element:  g  = (grad * gradScale) * clip[0]          (clip[0] only when HAS_CLIP=1)
//                 p  = p * decay                             (decoupled weight decay)
//                 m  = m + omb1 * (g - m)                    (= beta1 m + (1-beta1) g, torch lerp_)
//                 v  = v * beta2 + omb2 * g * g              (torch mul_ + addcmul_)
//                 p  = p - stepSize * (m / (sqrt(v) / bc2Sqrt + eps))
// ema: ema = ema - omd * (ema - p), omd = 1 - decay (= decay*ema + (1-decay)*p; the diffusers EMAModel form).
// gradnorm_partial / gradnorm_final: deterministic global L2 norm of grad * gradScale.
//   Pass 1: P groups of WG, work-item t of group g sums grad[i]^2 for i = g*WG + t, i += P*WG, then a local tree
//   into partial[g]. Launch: global = P*WG, local = WG. Pass 2: one group sums partial[0..P) (strided, then a
//   tree), norm = |gradScale| * sqrt(sum), and writes normOut[0] = norm and
//   clipOut[0] = min(1, maxNorm / (norm + 1e-6)) (torch.nn.utils.clip_grad_norm_; NaN propagates like
//   torch.clamp). The adamw kernel reads clipOut[0], so clipping needs no host read-back.
// Tuning: WG (power of two, default 256).

#ifndef WG
#define WG 256
#endif
#ifndef HAS_CLIP
#define HAS_CLIP 0
#endif

__kernel void adamw(__global float* p, __global float* m, __global float* v, __global const float* grad,
                    __global const float* clip, const float gradScale, const float decay,
                    const float beta1, const float omb1, const float beta2, const float omb2,
                    const float stepSize, const float bc2Sqrt, const float eps, const int n) {
    const int i = get_global_id(0);
    if (i >= n) return;
    float g = grad[i] * gradScale;
#if HAS_CLIP
    g = g * clip[0];
#endif
    const float pd = p[i] * decay;
    float mi = m[i];
    mi = mi + omb1 * (g - mi);
    const float vi = v[i] * beta2 + omb2 * g * g;
    m[i] = mi;
    v[i] = vi;
    p[i] = pd - stepSize * (mi / (sqrt(vi) / bc2Sqrt + eps));
}

__kernel void ema(__global float* e, __global const float* p, const float omd, const int n) {
    const int i = get_global_id(0);
    if (i < n) e[i] = e[i] - omd * (e[i] - p[i]);
}

void tree_sum(__local float* s, const int t) {
    for (int h = WG / 2; h > 0; h >>= 1) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (t < h) s[t] += s[t + h];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void gradnorm_partial(__global float* partial, __global const float* grad, const int n) {
    __local float s[WG];
    const int t = get_local_id(0), stride = get_num_groups(0) * WG;
    float acc = 0.0f;
    for (int i = get_group_id(0) * WG + t; i < n; i += stride) acc += grad[i] * grad[i];
    s[t] = acc;
    tree_sum(s, t);
    if (t == 0) partial[get_group_id(0)] = s[0];
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void gradnorm_final(__global float* normOut, __global float* clipOut, __global const float* partial,
                    const int parts, const float gradScale, const float maxNorm) {
    __local float s[WG];
    const int t = get_local_id(0);
    float acc = 0.0f;
    for (int q = t; q < parts; q += WG) acc += partial[q];
    s[t] = acc;
    tree_sum(s, t);
    if (t == 0) {
        const float norm = fabs(gradScale) * sqrt(s[0]);
        const float c = maxNorm / (norm + 1e-6f);
        normOut[0] = norm;
        clipOut[0] = (c < 1.0f || isnan(c)) ? c : 1.0f;
    }
}
