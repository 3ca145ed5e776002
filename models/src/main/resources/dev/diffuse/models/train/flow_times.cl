// Flow-matching times of one training step, written over rows 0 and 1 of the trainer's meta block (4, stride):
//   u_b       = philox_uniform(word b of stream `stream` under `seed`)     in (0, 1), never 0 or 1
//   meta[0,b] = scale * u_b      (the timestep the network is conditioned on, scale = 1000)
//   meta[1,b] = u_b              (the flow time t the fused flow_pair kernel mixes with: x_t = (1 - t) eps + t x0)
// Bit-identical to FlowTimes' Java loop (same Philox words, same float multiply). One work-item per sample.
// @include dev/diffuse/runtime/philox.cl

__kernel void flow_times(__global float* meta, const int batch, const int stride, const ulong seed, const ulong stream,
                         const float scale) {
    int b = get_global_id(0);
    if (b >= batch) return;
    uint4 w = philox_block(seed, stream, (ulong)b >> 2);
    int lane = b & 3;
    uint word = lane == 0 ? w.x : lane == 1 ? w.y : lane == 2 ? w.z : w.w;
    float u = philox_uniform(word);
    meta[b] = scale * u;
    meta[stride + b] = u;
}
