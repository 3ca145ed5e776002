// Flow-matching training pair (rectified flow, Liu et al. 2023; Lipman et al. 2023) in one pass:
//   x_t    = (1 - t_b) eps + t_b x0          (t_b per sample, t = 0 is noise, t = 1 data)
//   target = x0 - eps                         (the velocity d x_t / dt the model regresses, Prediction.VELOCITY)
// eps given (drawn = 0) or drawn in the kernel (drawn = 1: element i gets normal i of (seed, stream), the same z as
// q_sample and sampler_step, and no eps tensor is read or written).
// Layout: x0, eps, xt, target contiguous (B, per_sample); t (B). One work-item per 4 elements (a Philox block).
// @include dev/diffuse/runtime/philox.cl

__kernel void flow_pair(__global float* xt, __global float* target, __global const float* x0,
                        __global const float* eps, __global const float* t, const int per_sample, const long n,
                        const ulong seed, const ulong stream, const int drawn) {
    ulong block = get_global_id(0);
    long base = (long)block * 4;
    if (base >= n) return;
    float4 z = drawn ? philox_normal4(seed, stream, block) : (float4)(0.0f);
    float zz[4] = {z.x, z.y, z.z, z.w};
    for (int l = 0; l < 4; l++) {
        long i = base + l;
        if (i >= n) break;
        float tb = t[i / per_sample], x = x0[i], e = drawn ? zz[l] : eps[i];
        xt[i] = (1.0f - tb) * e + tb * x;
        target[i] = x - e;
    }
}
