// Deterministic full reductions of a float array x[0..n) to one float: sum, sum of squares, max (and mean = sum/n
// via `scale`). Two passes with a fixed shape, so the order of additions never depends on timing:
//   pass 1 (reduce_partial): GROUPS work-groups of WG items; item l of group g accumulates x[j] for
//          j = g*WG + l + k*GROUPS*WG (k = 0, 1, ...) sequentially, then the group reduces its WG values in a
//          fixed binary tree in local memory and writes partial[g].
//   pass 2 (reduce_final): one work-group of WG items reduces partial[0..GROUPS) the same way and writes
//          out[0] = scale * result.
// Preconditions: WG is a power of two; GROUPS <= WG * 64. Tuning: WG (256), GROUPS (set by the launcher).
// op: 0 = sum, 1 = sum of squares, 2 = max (max of an empty array is -INFINITY).

#ifndef WG
#define WG 256
#endif

static inline float reduce_identity(int op) { return op == 2 ? -INFINITY : 0.0f; }

static inline float reduce_combine(int op, float a, float b) { return op == 2 ? fmax(a, b) : a + b; }

static inline float reduce_tree(__local float* buf, int op) {
    int l = get_local_id(0);
    for (int s = WG / 2; s > 0; s >>= 1) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (l < s) buf[l] = reduce_combine(op, buf[l], buf[l + s]);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    return buf[0];
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void reduce_partial(__global float* partial, __global const float* x, const long n, const int op) {
    __local float buf[WG];
    int l = get_local_id(0);
    long stride = (long)get_num_groups(0) * WG;
    float acc = reduce_identity(op);
    for (long j = (long)get_group_id(0) * WG + l; j < n; j += stride) {
        float v = x[j];
        acc = reduce_combine(op, acc, op == 1 ? v * v : v);
    }
    buf[l] = acc;
    float r = reduce_tree(buf, op);
    if (l == 0) partial[get_group_id(0)] = r;
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void reduce_final(__global float* out, __global const float* partial, const int groups, const int op, const float scale) {
    __local float buf[WG];
    int l = get_local_id(0);
    float acc = reduce_identity(op);
    for (int j = l; j < groups; j += WG) acc = reduce_combine(op, acc, partial[j]);
    buf[l] = acc;
    float r = reduce_tree(buf, op);
    if (l == 0) out[0] = op == 2 ? r : scale * r;
}

// Row-wise dot products: out[r] = sum_j a[r*d + j] * b[r*d + j], one work-item per row summing in index order
// (deterministic). For the per-sample quantities of samplers and likelihoods (d up to a few thousand).
__kernel void reduce_row_dot(__global float* out, __global const float* a, __global const float* b, const int rows, const int d) {
    int r = get_global_id(0);
    if (r >= rows) return;
    __global const float* ar = a + (long)r * d;
    __global const float* br = b + (long)r * d;
    float acc = 0.0f;
    for (int j = 0; j < d; j++) acc += ar[j] * br[j];
    out[r] = acc;
}
