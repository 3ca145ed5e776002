// Mean-squared-error loss with optional per-sample weights, for the diffusion training objective.
//
// Layout: pred and target are contiguous (B, ...) with n = B * per elements (per = elements per sample);
// w is (B) when HAS_W=1. Sample of element i: b = i / per.
//
// mse_partial:  pass 1. P work-groups of WG; work-item t of group g sums w_b (pred-target)^2 over
//               i = g*WG + t, then i += P*WG (a fixed stride), and the group tree-reduces its WG sums into
//               partial[g]. Launch: global = P*WG, local = WG (WG a power of two).
// mse_final:    pass 2. One work-group of WG sums partial[0..P) (strided, then a tree) and writes
//               out[0] = sum / n. Both passes have a fixed order for given (n, P, WG): bit-reproducible.
// mse_backward: dpred[i] = 2 w_b (pred[i] - target[i]) / n * dL. One work-item per element, any n.
//
// Tuning: WG (default 256).

#ifndef WG
#define WG 256
#endif
#ifndef HAS_W
#define HAS_W 0
#endif

/* Tree-reduces s[0..WG) into s[0]; all work-items of the group must call it. */
void tree_sum(__local float* s, const int t) {
    for (int h = WG / 2; h > 0; h >>= 1) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (t < h) s[t] += s[t + h];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void mse_partial(__global float* partial, __global const float* pred, __global const float* target,
                 __global const float* w, const int n, const int per) {
    __local float s[WG];
    const int t = get_local_id(0);
    const int stride = get_num_groups(0) * WG;
    float acc = 0.0f;
    for (int i = get_group_id(0) * WG + t; i < n; i += stride) {
        const float d = pred[i] - target[i];
#if HAS_W
        acc += w[i / per] * d * d;
#else
        acc += d * d;
#endif
    }
    s[t] = acc;
    tree_sum(s, t);
    if (t == 0) partial[get_group_id(0)] = s[0];
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void mse_final(__global float* out, __global const float* partial, const int parts, const int n) {
    __local float s[WG];
    const int t = get_local_id(0);
    float acc = 0.0f;
    for (int p = t; p < parts; p += WG) acc += partial[p];
    s[t] = acc;
    tree_sum(s, t);
    if (t == 0) out[0] = s[0] / (float)n;
}

__kernel void mse_backward(__global float* dpred, __global const float* pred, __global const float* target,
                           __global const float* w, const int n, const int per, const float dL) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const float scale = 2.0f * dL / (float)n;
#if HAS_W
    dpred[i] = scale * w[i / per] * (pred[i] - target[i]);
#else
    dpred[i] = scale * (pred[i] - target[i]);
#endif
}
