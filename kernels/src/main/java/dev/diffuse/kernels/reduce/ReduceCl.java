package dev.diffuse.kernels.reduce;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Two fixed-shape passes (see reduce.cl). The partials buffer ({@value #MAX_GROUPS} floats) is allocated once per
 * device; the two enqueues of one reduction hold its lock, so concurrent callers cannot interleave on it.
 */
final class ReduceCl {
    static final String SRC = "dev/diffuse/kernels/reduce.cl";
    static final int WG = 256;
    static final int MAX_GROUPS = 512; // enough to fill 132 SMs several times over
    private static final Map<ClDevice, Tensor> PARTIALS = new ConcurrentHashMap<>();

    private ReduceCl() {}

    static void reduce(ClDevice c, Tensor out, Tensor x, Reduce.Op op, float scale) {
        long n = x.numel();
        int groups = (int) Math.max(1, Math.min(MAX_GROUPS, (n + WG - 1) / WG));
        Tensor partial = PARTIALS.computeIfAbsent(c, d -> Tensor.allocate(d, MAX_GROUPS));
        Map<String, Integer> defs = Map.of("WG", WG);
        synchronized (partial) {
            c.kernel(SRC, "reduce_partial", defs).launch(new long[]{(long) groups * WG}, new long[]{WG},
                    partial, x, n, op.ordinal());
            c.kernel(SRC, "reduce_final", defs).launch(new long[]{WG}, new long[]{WG},
                    out, partial, groups, op.ordinal(), scale);
        }
    }
}
