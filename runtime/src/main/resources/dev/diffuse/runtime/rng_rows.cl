// Device-side normal fill with a noise key per row (dev.diffuse.runtime.RowNoise): element j of row r gets
// mean + std * normal(first_r + j) of stream `stream` under seed_r. One work-item per element (rows need not start on
// a Philox block). Launch: 1-D, global = n rounded up to the work-group.
// @include dev/diffuse/runtime/philox_rows.cl

__kernel void rng_fill_normal_rows(__global float* out, const long n, const long row_len, __global const uint4* keys,
                                   const ulong stream, const float mean, const float std) {
    long i = get_global_id(0);
    if (i >= n) return;
    out[i] = mean + std * row_normal(keys, row_len, i, stream);
}
