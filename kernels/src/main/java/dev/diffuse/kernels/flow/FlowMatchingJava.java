package dev.diffuse.kernels.flow;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Philox;
import dev.diffuse.runtime.Tensor;

/** Java device for flow.cl: same float formula, same Philox noise. */
final class FlowMatchingJava {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final int CHUNK = 1 << 14; // a multiple of 4

    private FlowMatchingJava() {}

    static void pair(JavaDevice d, Tensor xt, Tensor target, Tensor x0, Tensor eps, Tensor t, int per, long seed, long stream) {
        MemorySegment o = xt.segment(), tg = target.segment(), x = x0.segment(), ts = t.segment();
        MemorySegment es = eps == null ? null : eps.segment();
        long n = x0.numel();
        d.parallelFor((int) ((n + CHUNK - 1) / CHUNK), ch -> {
            int from = ch * CHUNK, len = (int) Math.min(CHUNK, n - from);
            float[] z = null;
            if (es == null) {
                z = new float[len];
                Philox.normals(seed, stream, from, z, 0, len);
            }
            for (int k = 0; k < len; k++) {
                int i = from + k;
                float tb = ts.getAtIndex(F, i / per), xi = x.getAtIndex(F, i), e = z != null ? z[k] : es.getAtIndex(F, i);
                o.setAtIndex(F, i, (1f - tb) * e + tb * xi);
                tg.setAtIndex(F, i, xi - e);
            }
        });
    }
}
