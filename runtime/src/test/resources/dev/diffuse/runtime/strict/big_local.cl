// Test input for StrictModeTest: 64 KB of static local memory, more than NVIDIA's 48 KB per work-group.
__kernel void big_local(__global float* y) {
    __local float big[16384];
    const int l = get_local_id(0);
    big[l] = (float)l;
    barrier(CLK_LOCAL_MEM_FENCE);
    y[get_global_id(0)] = big[16383 - l];
}

// Local memory sized by the host (a ClArg.Local argument): y[g] = x[g] through a work-group buffer.
__kernel void through_local(__global float* y, __global const float* x, __local float* tmp) {
    const int l = get_local_id(0);
    tmp[l] = x[get_global_id(0)];
    barrier(CLK_LOCAL_MEM_FENCE);
    y[get_global_id(0)] = tmp[l];
}
