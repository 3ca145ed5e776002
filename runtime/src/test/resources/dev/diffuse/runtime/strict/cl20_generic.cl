// Test input for StrictModeTest: an OpenCL C 2.0 construct (a generic-address-space pointer parameter).
static float first(__generic const float* p) { return p[0]; }

__kernel void copy_first(__global float* y, __global const float* x) { y[0] = first(x); }
