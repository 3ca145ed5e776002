package dev.diffuse.kernels.diffusion;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.Tensor;

/** Java device for sampler_combine.cl: the same float formulas and the same in-kernel noise. */
final class SamplerCombineJava {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final int CHUNK = 1 << 14; // a multiple of 4: chunks start on Philox block boundaries

    private SamplerCombineJava() {}

    static void combine(JavaDevice d, Tensor out, Tensor aux, Tensor x, Tensor[] m, float a, float[] b, float p, float q,
                        float c, Noise noise, long stream) {
        MemorySegment o = out.segment(), xs = x.segment(), as = aux == null ? null : aux.segment();
        MemorySegment[] ms = new MemorySegment[m.length];
        for (int k = 0; k < m.length; k++) ms[k] = m[k].segment();
        long n = out.numel();
        int chunks = (int) ((n + CHUNK - 1) / CHUNK);
        d.parallelFor(chunks, ch -> {
            int from = ch * CHUNK, len = (int) Math.min(CHUNK, n - from);
            float[] z = null;
            if (c != 0f) {
                z = new float[len];
                noise.normals(stream, n, from, z, len);
            }
            for (int e = 0; e < len; e++) {
                int i = from + e;
                float xi = xs.getAtIndex(F, i), v = a * xi, a0 = 0f;
                for (int k = 0; k < ms.length; k++) {
                    float mk = ms[k].getAtIndex(F, i);
                    if (k == 0) a0 = mk;
                    v += b[k] * mk;
                }
                if (z != null) v += c * z[e];
                if (as != null) as.setAtIndex(F, i, p * xi + q * a0);
                o.setAtIndex(F, i, v);
            }
        });
    }

    static void langevin(JavaDevice d, Tensor out, Tensor x, Tensor g, Tensor z, Tensor ssZ, Tensor ssG,
                         float gx, float gg, float gScale2, float twoAlphaR2) {
        float sg = gScale2 * ssG.segment().getAtIndex(F, 0);
        float eps = sg > 0f ? twoAlphaR2 * ssZ.segment().getAtIndex(F, 0) / sg : 0f;
        float noise = (float) Math.sqrt(2f * eps);
        MemorySegment o = out.segment(), xs = x.segment(), gs = g.segment(), zs = z.segment();
        long n = out.numel();
        int chunks = (int) ((n + CHUNK - 1) / CHUNK);
        d.parallelFor(chunks, ch -> {
            int from = ch * CHUNK, len = (int) Math.min(CHUNK, n - from);
            for (int e = 0; e < len; e++) {
                int i = from + e;
                float xi = xs.getAtIndex(F, i);
                o.setAtIndex(F, i, xi + eps * (gx * xi + gg * gs.getAtIndex(F, i)) + noise * zs.getAtIndex(F, i));
            }
        });
    }
}
