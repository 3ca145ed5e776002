// Per-row noise keys (dev.diffuse.runtime.RowNoise): element j of row r of a (rows, row_len) tensor gets normal
// first_r + j of the stream under seed_r. keys holds per row (seed.lo, seed.hi, first.lo, first.hi).
// Include with "// @include dev/diffuse/runtime/philox_rows.cl" (it includes philox.cl).
// @include dev/diffuse/runtime/philox.cl

#ifndef DIFFUSE_PHILOX_ROWS_CL
#define DIFFUSE_PHILOX_ROWS_CL

// The normal of flat element i of a tensor whose rows hold row_len elements each.
static inline float row_normal(__global const uint4* keys, const long row_len, const long i, const ulong stream) {
    long r = i / row_len;
    long j = i - r * row_len;
    uint4 k = keys[r];
    ulong seed = (ulong)k.x | ((ulong)k.y << 32);
    ulong first = (ulong)k.z | ((ulong)k.w << 32);
    return philox_normal(seed, stream, first + (ulong)j);
}

#endif
