// Activations over contiguous float arrays of n elements.
//   silu_forward:  y = x*s, s = sigmoid(x) = 1/(1 + exp(-x))
//   silu_backward: dx = dy*(s + x*s*(1-s))        (d/dx [x*s] = s + x*s' with s' = s*(1-s))
// Variants: VEC == 4 processes n/4 float4s per launch (requires n % 4 == 0 and float4-aligned offsets, host checks);
// VEC == 1 one element per work-item. Out may alias an input (each element is read before it is written by the
// same work-item). Launch: 1-D, global = n/VEC rounded up to the work-group size.
// Tuning: VEC (1 or 4).

#ifndef VEC
#define VEC 1
#endif

#if VEC == 4
typedef float4 vec_t;
#define LOAD(p, j) (((__global const float4*)(p))[j])
#define STORE(p, j, v) (((__global float4*)(p))[j] = (v))
#else
typedef float vec_t;
#define LOAD(p, j) ((p)[j])
#define STORE(p, j, v) ((p)[j] = (v))
#endif

__kernel void silu_forward(__global float* y, __global const float* x, const int nv) {
    int j = get_global_id(0);
    if (j >= nv) return;
    vec_t v = LOAD(x, j);
    STORE(y, j, v / ((vec_t)1.0f + exp(-v)));
}

__kernel void silu_backward(__global float* dx, __global const float* dy, __global const float* x, const int nv) {
    int j = get_global_id(0);
    if (j >= nv) return;
    vec_t v = LOAD(x, j);
    vec_t s = (vec_t)1.0f / ((vec_t)1.0f + exp(-v));
    STORE(dx, j, LOAD(dy, j) * (s + v * s * ((vec_t)1.0f - s)));
}
