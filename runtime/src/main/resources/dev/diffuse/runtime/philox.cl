// Philox4x32-10 counter-based RNG, bit-identical to dev.diffuse.runtime.Philox (see its Javadoc for the layout):
//   key = (seed.lo, seed.hi); counter = (block.lo, block.hi, stream.lo, stream.hi); element i -> block i>>2, lane i&3.
// Uniforms: top 24 bits, u = (w >> 8) * 2^-24 + 2^-25 (exact in float, in (0,1)).
// Normals: Box-Muller on lanes (0,1) and (2,3) in float.
// Include with a line "// @include dev/diffuse/runtime/philox.cl" at the top of a kernel file.

#ifndef DIFFUSE_PHILOX_CL
#define DIFFUSE_PHILOX_CL

static inline uint4 philox4x32_10(uint4 c, uint2 k) {
    for (int r = 0; r < 10; r++) {
        if (r > 0) { k.x += 0x9E3779B9u; k.y += 0xBB67AE85u; }
        uint hi0 = mul_hi(0xD2511F53u, c.x), lo0 = 0xD2511F53u * c.x;
        uint hi1 = mul_hi(0xCD9E8D57u, c.z), lo1 = 0xCD9E8D57u * c.z;
        c = (uint4)(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    }
    return c;
}

static inline uint4 philox_block(ulong seed, ulong stream, ulong block) {
    return philox4x32_10((uint4)((uint)block, (uint)(block >> 32), (uint)stream, (uint)(stream >> 32)),
                         (uint2)((uint)seed, (uint)(seed >> 32)));
}

static inline float philox_uniform(uint bits) {
    return (float)(bits >> 8) * 0x1.0p-24f + 0x1.0p-25f;
}

// Four normals of block `block`: lanes 0..3.
static inline float4 philox_normal4(ulong seed, ulong stream, ulong block) {
    uint4 w = philox_block(seed, stream, block);
    float r0 = sqrt(-2.0f * log(philox_uniform(w.x)));
    float t0 = 6.283185307179586f * philox_uniform(w.y);
    float r1 = sqrt(-2.0f * log(philox_uniform(w.z)));
    float t1 = 6.283185307179586f * philox_uniform(w.w);
    return (float4)(r0 * cos(t0), r0 * sin(t0), r1 * cos(t1), r1 * sin(t1));
}

// Normal number `index` of the stream (computes its whole block; prefer philox_normal4 when a work-item
// handles four consecutive elements).
static inline float philox_normal(ulong seed, ulong stream, ulong index) {
    float4 n = philox_normal4(seed, stream, index >> 2);
    switch ((int)(index & 3)) { case 0: return n.x; case 1: return n.y; case 2: return n.z; default: return n.w; }
}

#endif
