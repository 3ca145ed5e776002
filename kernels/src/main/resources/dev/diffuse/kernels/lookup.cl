// Embedding-table lookup added to an existing (B, D) tensor (the U-Net class embedding, diffusers
// `emb = emb + class_embedding(class_labels)`), and its deterministic backward.
//   lookup_add_rows:      out[b, j] += table[label[b], j]            one work-item per (b, j)
//   lookup_add_rows_back: dtable[c, j] += sum_{b ascending, label[b] == c} dout[b, j]
//                         one work-item per (c, j), looping over b in order: no atomics, bit-reproducible.
// Layout: out/dout (B, D), table/dtable (K, D) row-major, labels (B) float holding integer class ids.
// A label outside 0..K-1 contributes nothing (the host API validates labels where it can).
// Launch: 1-D over B*D (forward) or K*D (backward), rounded up to WG.

__kernel void lookup_add_rows(__global float* out, __global const float* table, __global const float* labels,
                              const int B, const int D, const int K) {
    int i = get_global_id(0);
    if (i >= B * D) return;
    int b = i / D, j = i - b * D;
    int c = (int) labels[b];
    if (c >= 0 && c < K) out[i] += table[c * D + j];
}

__kernel void lookup_add_rows_back(__global float* dtable, __global const float* dout, __global const float* labels,
                                   const int B, const int D, const int K) {
    int i = get_global_id(0);
    if (i >= K * D) return;
    int c = i / D, j = i - c * D;
    float acc = 0.0f;
    int any = 0;
    for (int b = 0; b < B; b++) {
        if ((int) labels[b] == c) { acc += dout[b * D + j]; any = 1; }
    }
    if (any) dtable[i] += acc;
}
