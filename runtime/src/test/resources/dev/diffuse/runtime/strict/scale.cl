// Test input for StrictModeTest and ProgramCacheTest: y[i] = FACTOR * x[i].
#ifndef FACTOR
#define FACTOR 2.0f
#endif
__kernel void scale(__global float* y, __global const float* x, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[i] = FACTOR * x[i];
}
