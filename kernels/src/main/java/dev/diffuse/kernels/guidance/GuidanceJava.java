package dev.diffuse.kernels.guidance;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/** Java device for guidance.cl: the same float formulas; the rescale statistics accumulate in double. */
final class GuidanceJava {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final int CHUNK = 1 << 14;

    private GuidanceJava() {}

    static void combine(JavaDevice d, Tensor out, Tensor m, float w) {
        MemorySegment o = out.segment(), ms = m.segment();
        long bn = out.numel();
        d.parallelFor((int) ((bn + CHUNK - 1) / CHUNK), ch -> {
            long from = (long) ch * CHUNK, to = Math.min(bn, from + CHUNK);
            for (long i = from; i < to; i++) o.setAtIndex(F, i, (1f + w) * ms.getAtIndex(F, i) - w * ms.getAtIndex(F, bn + i));
        });
    }

    static void rescale(JavaDevice d, Tensor out, Tensor m, float w, float phi, int n, int batch) {
        MemorySegment o = out.segment(), ms = m.segment();
        d.parallelFor(batch, b -> {
            long c0 = (long) b * n, u0 = (long) (batch + b) * n;
            double sc = 0, sg = 0;
            for (int j = 0; j < n; j++) {
                float c = ms.getAtIndex(F, c0 + j);
                sc += c;
                sg += (1f + w) * c - w * ms.getAtIndex(F, u0 + j);
            }
            double mc = sc / n, mg = sg / n, vc = 0, vg = 0;
            for (int j = 0; j < n; j++) {
                float c = ms.getAtIndex(F, c0 + j), g = (1f + w) * c - w * ms.getAtIndex(F, u0 + j);
                vc += (c - mc) * (c - mc);
                vg += (g - mg) * (g - mg);
            }
            float k = (float) (phi * (vg > 0 ? Math.sqrt(vc / vg) : 1) + (1 - phi));
            for (int j = 0; j < n; j++) {
                float c = ms.getAtIndex(F, c0 + j), g = (1f + w) * c - w * ms.getAtIndex(F, u0 + j);
                o.setAtIndex(F, c0 + j, k * g);
            }
        });
    }
}
