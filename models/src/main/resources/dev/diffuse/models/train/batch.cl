// Training-batch preparation on the device, bit-identical to Trainer's host path (so the data order is the same
// function of (seed, step) whichever path runs):
//   prepare_batch: for element i of x0 (B, per_sample), sample b = i / per_sample, feature j:
//     r      = (word 2b << 32) | word 2b+1 of Philox stream 4*step + 0     (64 random bits)
//     idx_b  = r mod size                                                  (dataset row)
//     x0[i]  = data[idx_b * per_sample + j]
//   and the work-item with j == 0 also writes the per-sample block meta (4, B):
//     t_b = (word b of stream 4*step + 1) mod n_t;  meta = [t_b, sqrt_ab[t_b], sqrt_1m_ab[t_b], labels[idx_b] or 0]
//   label dropout (classifier-free guidance training): the label becomes null_class when word b of stream
//   4*step + 3 is below drop_below (= p * 2^32; 0 never drops)
// Layout: data (size, per_sample) row-major floats, labels (size), tables (n_t), meta rows t | a | s | label, each
// meta_stride floats long (>= B; rows start on aligned boundaries because each row is a kernel argument of its own).
// Launch: 1-D over B * per_sample work-items rounded up to WG; each computes one Philox block (cheap next to the
// gather's memory traffic). No tuning constants besides WG.
// @include dev/diffuse/runtime/philox.cl

static inline uint philox_word(uint4 w, int lane) {
    return lane == 0 ? w.x : lane == 1 ? w.y : lane == 2 ? w.z : w.w;
}

__kernel void prepare_batch(__global float* x0, __global float* meta, __global const float* data,
                            __global const float* labels, __global const float* sqrt_ab, __global const float* sqrt_1m_ab,
                            const int batch, const int meta_stride, const int per_sample, const long size, const int n_t,
                            const ulong seed, const ulong step, const int has_labels,
                            const long drop_below, const int null_class) {
    long i = get_global_id(0);
    if (i >= (long)batch * per_sample) return;
    int b = (int)(i / per_sample);
    int j = (int)(i - (long)b * per_sample);
    ulong e = 2ul * (ulong)b;
    uint4 w = philox_block(seed, 4ul * step, e >> 2);
    int lane = (int)(e & 3ul);
    ulong r = ((ulong)philox_word(w, lane) << 32) | (ulong)philox_word(w, lane + 1);
    long idx = (long)(r % (ulong)size);
    x0[i] = data[idx * per_sample + j];
    if (j == 0) {
        uint4 tw = philox_block(seed, 4ul * step + 1ul, (ulong)b >> 2);
        int t = (int)(philox_word(tw, b & 3) % (uint)n_t);
        meta[b] = (float)t;
        meta[meta_stride + b] = sqrt_ab[t];
        meta[2 * meta_stride + b] = sqrt_1m_ab[t];
        float label = has_labels ? labels[idx] : 0.0f;
        if (drop_below > 0) {
            uint4 dw = philox_block(seed, 4ul * step + 3ul, (ulong)b >> 2);
            if ((long)philox_word(dw, b & 3) < drop_below) label = (float)null_class;
        }
        meta[3 * meta_stride + b] = label;
    }
}
