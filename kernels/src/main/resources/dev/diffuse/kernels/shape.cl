// Shape ops of the U-Net on NCHW contiguous float tensors (HW = H*W).
//   concat_channels:  out (B, Ca+Cb, H, W) = cat([a (B, Ca, H, W), b (B, Cb, H, W)], dim=1)
//   split_channels:   its backward: da = dout[:, :Ca], db = dout[:, Ca:]  (written)
//     One work-item per out element (per float4 when VEC == 4). Per batch item the out block is a's block followed
//     by b's block, so each work-item is a pure copy; reads and writes are coalesced.
//   upsample_nearest2x:          y (B, C, 2H, 2W), y[2h+i, 2w+j] = x[h, w]  (i, j in {0, 1})
//   upsample_nearest2x_backward: dx[h, w] = (dy[2h, 2w] + dy[2h, 2w+1]) + (dy[2h+1, 2w] + dy[2h+1, 2w+1])
//     One work-item per INPUT element; it reads/writes the two output rows as float2 (vload2/vstore2: only float
//     alignment needed). Fixed summation order: deterministic.
//   add_bcast:          y = x + e[b, c] over (H, W)  (e: (B, C)); VEC == 4 when HW % 4 == 0.
//   add_bcast_backward: de[b, c] = sum_hw dy[b, c, hw] (written): one work-group of RWG per (b, c), float4 loads
//     when VEC == 4, fixed-order local tree: bit-identical across runs. (dx = dy needs no kernel.)
// Preconditions: VEC == 4 only when the per-plane/per-block sizes are multiples of 4 and every tensor's offset is
// float4-aligned (host checks). Tuning: VEC (1 or 4), RWG (reduction work-group, power of two, 128).

#ifndef VEC
#define VEC 1
#endif
#ifndef RWG
#define RWG 128
#endif

#if VEC == 4
typedef float4 vec_t;
#define LOAD(p, j) (((__global const float4*)(p))[j])
#define STORE(p, j, v) (((__global float4*)(p))[j] = (v))
#define HSUM(v) (((v).x + (v).y) + ((v).z + (v).w))
#else
typedef float vec_t;
#define LOAD(p, j) ((p)[j])
#define STORE(p, j, v) ((p)[j] = (v))
#define HSUM(v) (v)
#endif

// na = Ca*HW/VEC, nb = Cb*HW/VEC (vectors per batch item), n = B*(na + nb).
__kernel void concat_channels(__global float* out, __global const float* a, __global const float* b,
                              const int na, const int nb, const int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    int bi = i / (na + nb), r = i - bi * (na + nb);
    STORE(out, i, r < na ? LOAD(a, bi * na + r) : LOAD(b, bi * nb + r - na));
}

__kernel void split_channels(__global float* da, __global float* db, __global const float* dout,
                             const int na, const int nb, const int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    int bi = i / (na + nb), r = i - bi * (na + nb);
    vec_t v = LOAD(dout, i);
    if (r < na) STORE(da, bi * na + r, v);
    else STORE(db, bi * nb + r - na, v);
}

// n = B*C*H*W input elements.
__kernel void upsample_nearest2x(__global float* y, __global const float* x, const int H, const int W, const int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    int w = i % W, t = i / W, h = t % H, bc = t / H;
    float v = x[i];
    size_t r0 = ((size_t)bc * 2 * H + 2 * h) * (2 * W) + 2 * w;
    vstore2((float2)(v, v), 0, y + r0);
    vstore2((float2)(v, v), 0, y + r0 + 2 * W);
}

__kernel void upsample_nearest2x_backward(__global float* dx, __global const float* dy, const int H, const int W, const int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    int w = i % W, t = i / W, h = t % H, bc = t / H;
    size_t r0 = ((size_t)bc * 2 * H + 2 * h) * (2 * W) + 2 * w;
    float2 u = vload2(0, dy + r0), d = vload2(0, dy + r0 + 2 * W);
    dx[i] = (u.x + u.y) + (d.x + d.y);
}

// hwv = HW/VEC, n = B*C*hwv.
__kernel void add_bcast(__global float* y, __global const float* x, __global const float* e, const int hwv, const int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    STORE(y, i, LOAD(x, i) + e[i / hwv]);
}

// Global = B*C*RWG, local = RWG.
__kernel void add_bcast_backward(__global float* de, __global const float* dy, const int hwv) {
    __local float red[RWG];
    const int bc = get_group_id(0), lid = get_local_id(0);
    __global const float* row = dy + (size_t)bc * hwv * VEC;
    float s = 0.0f;
    for (int j = lid; j < hwv; j += RWG) s += HSUM(LOAD(row, j));
    red[lid] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int k = RWG / 2; k > 0; k >>= 1) {
        if (lid < k) red[lid] += red[lid + k];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) de[bc] = red[0];
}
