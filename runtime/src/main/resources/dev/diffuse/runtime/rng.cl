// Device-side fills from the Philox stream (seed, stream): element k of `out` gets draw number first + k.
// One work-item per Philox block of 4 draws; the blocks at both ends are partial.
// @include dev/diffuse/runtime/philox.cl

__kernel void rng_fill_normal(__global float* out, const long n, const ulong first,
                              const ulong seed, const ulong stream, const float mean, const float std) {
    ulong block = (first >> 2) + get_global_id(0);
    ulong base = block << 2;
    if (base >= first + (ulong)n) return;
    float4 z = philox_normal4(seed, stream, block);
    float v[4] = {z.x, z.y, z.z, z.w};
    for (int l = 0; l < 4; l++) {
        ulong i = base + l;
        if (i >= first && i < first + (ulong)n) out[i - first] = mean + std * v[l];
    }
}

__kernel void rng_fill_uniform(__global float* out, const long n, const ulong first,
                               const ulong seed, const ulong stream) {
    ulong block = (first >> 2) + get_global_id(0);
    ulong base = block << 2;
    if (base >= first + (ulong)n) return;
    uint4 w = philox_block(seed, stream, block);
    uint v[4] = {w.x, w.y, w.z, w.w};
    for (int l = 0; l < 4; l++) {
        ulong i = base + l;
        if (i >= first && i < first + (ulong)n) out[i - first] = philox_uniform(v[l]);
    }
}

// Raw 32-bit words, stored in a float tensor bit for bit (read back with Float.floatToRawIntBits).
__kernel void rng_fill_bits(__global uint* out, const long n, const ulong first,
                            const ulong seed, const ulong stream) {
    ulong block = (first >> 2) + get_global_id(0);
    ulong base = block << 2;
    if (base >= first + (ulong)n) return;
    uint4 w = philox_block(seed, stream, block);
    uint v[4] = {w.x, w.y, w.z, w.w};
    for (int l = 0; l < 4; l++) {
        ulong i = base + l;
        if (i >= first && i < first + (ulong)n) out[i - first] = v[l];
    }
}
