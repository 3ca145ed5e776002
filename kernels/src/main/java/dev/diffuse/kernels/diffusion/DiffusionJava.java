package dev.diffuse.kernels.diffusion;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.Tensor;

/** Java device for the fused diffusion kernels: same formulas and the same noise as diffusion.cl. */
final class DiffusionJava {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final int CHUNK = 1 << 14; // a multiple of 4: chunks start on Philox block boundaries

    private DiffusionJava() {}

    private interface Body { void run(int from, int len, float[] z); }

    /** Runs body over fixed chunks with the chunk's normals under {@code noise} (z = null when drawn is false). */
    private static void chunks(JavaDevice d, long n, boolean drawn, Noise noise, long stream, Body body) {
        int chunks = (int) ((n + CHUNK - 1) / CHUNK);
        d.parallelFor(chunks, c -> {
            int from = c * CHUNK, len = (int) Math.min(CHUNK, n - from);
            float[] z = null;
            if (drawn) {
                z = new float[len];
                noise.normals(stream, n, from, z, len);
            }
            body.run(from, len, z);
        });
    }

    static void qSample(JavaDevice d, Tensor out, Tensor epsOut, Tensor x0, Tensor eps, Tensor a, Tensor s,
                        int perSample, long seed, long stream, boolean drawn) {
        MemorySegment o = out.segment(), x = x0.segment(), as = a.segment(), ss = s.segment();
        MemorySegment e = eps == null ? null : eps.segment(), eo = epsOut == null ? null : epsOut.segment();
        chunks(d, out.numel(), drawn, Noise.seed(seed), stream, (from, len, z) -> {
            for (int k = 0; k < len; k++) {
                int i = from + k, b = i / perSample;
                float ei = drawn ? z[k] : e.getAtIndex(F, i);
                if (drawn && eo != null) eo.setAtIndex(F, i, ei);
                o.setAtIndex(F, i, as.getAtIndex(F, b) * x.getAtIndex(F, i) + ss.getAtIndex(F, b) * ei);
            }
        });
    }

    static void step(JavaDevice d, Tensor out, Tensor x, Tensor m, Tensor m2, float a, float b, float b2, float c, Noise noise, long stream) {
        MemorySegment o = out.segment(), xs = x.segment(), ms = m.segment(), m2s = m2 == null ? null : m2.segment();
        chunks(d, out.numel(), c != 0f, noise, stream, (from, len, z) -> {
            for (int k = 0; k < len; k++) {
                int i = from + k;
                float v = a * xs.getAtIndex(F, i) + b * ms.getAtIndex(F, i);
                if (m2s != null) v += b2 * m2s.getAtIndex(F, i);
                o.setAtIndex(F, i, v + (z == null ? 0f : c * z[k]));
            }
        });
    }

    /** f = {p, q, lo, hi, a, b, d, c}. */
    static void stepClipX0(JavaDevice dev, Tensor out, Tensor x, Tensor m, float[] f, Noise noise, long stream) {
        MemorySegment o = out.segment(), xs = x.segment(), ms = m.segment();
        float p = f[0], q = f[1], lo = f[2], hi = f[3], a = f[4], b = f[5], d = f[6], c = f[7];
        chunks(dev, out.numel(), c != 0f, noise, stream, (from, len, z) -> {
            for (int k = 0; k < len; k++) {
                int i = from + k;
                float xi = xs.getAtIndex(F, i), mi = ms.getAtIndex(F, i);
                float x0 = Math.min(Math.max(p * xi + q * mi, lo), hi);
                o.setAtIndex(F, i, a * xi + b * x0 + d * mi + (z == null ? 0f : c * z[k]));
            }
        });
    }
}
