// Roofline microbenchmarks of an OpenCL device (diffuse bench): the reachable FP32 FMA rate and the copy bandwidth.
//
// fma_peak: every work-item runs 12 independent chains c = fma(c, a, b) of float16 vectors for `iterations` rounds
//   and writes a sum that depends on all of them to out[gid] (so the compiler must do the work). On a CPU (PoCL)
//   one float16 chain is one 512-bit FMA (two 256-bit ones on AVX2), and 12 chains keep both FMA units busy (an
//   FMA has ~4 cycles of latency and 2 issue per cycle, so >= 8 must be in flight). Explicit vectors, because
//   PoCL's work-group vectoriser leaves a scalar version of this loop scalar (42 GFLOP/s on the work machine,
//   against 200-280 for float16). On a GPU each float16 chain is 16 independent FMAs per work-item.
//   FLOPs = 2 * 12 * 16 * iterations * global size.
// copy_f16: dst[i] = src[i] over n float16 (64 bytes read + 64 written per work-item).
// Preconditions: out has global-size floats; copy_f16's buffers hold n float16.

#define CHAIN(k) float16 c##k = seed + (float)(k);
#define STEP(k) c##k = fma(c##k, av, bv);

__kernel void fma_peak(__global float *out, int iterations, float a, float b) {
    float16 seed = (float16)((float)get_global_id(0) * 1e-9f), av = (float16)(a), bv = (float16)(b);
    CHAIN(0) CHAIN(1) CHAIN(2) CHAIN(3) CHAIN(4) CHAIN(5) CHAIN(6) CHAIN(7) CHAIN(8) CHAIN(9) CHAIN(10) CHAIN(11)
    for (int i = 0; i < iterations; i++) {
        STEP(0) STEP(1) STEP(2) STEP(3) STEP(4) STEP(5) STEP(6) STEP(7) STEP(8) STEP(9) STEP(10) STEP(11)
    }
    float16 s = ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11));
    float8 h = s.lo + s.hi;
    float4 q = h.lo + h.hi;
    out[get_global_id(0)] = (q.x + q.y) + (q.z + q.w);
}

__kernel void copy_f16(__global float16 *dst, __global const float16 *src, long n) {
    long i = get_global_id(0);
    if (i < n) dst[i] = src[i];
}
