// Elementwise ops over contiguous float arrays of n elements (any n: the tail is guarded).
//   ew_scale:  y = a*x              ew_add:  z = x + y            ew_axpby: z = a*x + b*y
//   ew_fill:   y = v                ew_mul:  z = x * y
// Each work-item handles one element; out may alias an input (every element is read before it is written by
// the same work-item). Launch: 1-D, global = n rounded up to WG.

__kernel void ew_scale(__global float* y, __global const float* x, const float a, const int n) {
    int i = get_global_id(0);
    if (i < n) y[i] = a * x[i];
}

__kernel void ew_add(__global float* z, __global const float* x, __global const float* y, const int n) {
    int i = get_global_id(0);
    if (i < n) z[i] = x[i] + y[i];
}

__kernel void ew_mul(__global float* z, __global const float* x, __global const float* y, const int n) {
    int i = get_global_id(0);
    if (i < n) z[i] = x[i] * y[i];
}

__kernel void ew_axpby(__global float* z, const float a, __global const float* x, const float b,
                       __global const float* y, const int n) {
    int i = get_global_id(0);
    if (i < n) z[i] = a * x[i] + b * y[i];
}

__kernel void ew_fill(__global float* y, const float v, const int n) {
    int i = get_global_id(0);
    if (i < n) y[i] = v;
}
