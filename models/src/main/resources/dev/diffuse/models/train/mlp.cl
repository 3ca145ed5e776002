// One-hot encoding of class labels for MlpModel's class embedding (the embedding itself is a GEMM with the table).
//   onehot: out[b, k] = (labels[b] == k) ? 1 : 0     labels (B) hold integer class ids as floats;
//           out (B, K) row-major. A label outside 0..K-1 (or not an integer) gives an all-zero row: no embedding.
// Launch: 1-D over B*K elements, global rounded up to the work-group size. No tuning constants.

__kernel void onehot(__global float* out, __global const float* labels, const int batch, const int k) {
    int i = get_global_id(0);
    if (i >= batch * k) return;
    int b = i / k, c = i - b * k;
    out[i] = labels[b] == (float) c ? 1.0f : 0.0f;
}
