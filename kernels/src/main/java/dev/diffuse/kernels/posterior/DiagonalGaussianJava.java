package dev.diffuse.kernels.posterior;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Philox;
import dev.diffuse.runtime.Tensor;

/** Java device for posterior.cl: the same float formulas as plain loops over fixed chunks (the readable reference). */
final class DiagonalGaussianJava {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final int CHUNK = 1 << 14;

    private DiagonalGaussianJava() {}

    interface Body { void run(int from, int to); }

    private static void chunks(JavaDevice d, long n, Body body) {
        d.parallelFor((int) ((n + CHUNK - 1) / CHUNK), ch -> body.run(ch * CHUNK, (int) Math.min(n, (long) (ch + 1) * CHUNK)));
    }

    /** Index of element i's mean in the moments: sample i / ls, offset i % ls (its logvar is ls further). */
    static long meanIndex(long i, long ls) { return (i / ls) * 2 * ls + i % ls; }

    static float clampLogvar(float v) { return Math.min(DiagonalGaussian.LOGVAR_MAX, Math.max(DiagonalGaussian.LOGVAR_MIN, v)); }

    static void sample(JavaDevice d, Tensor z, Tensor kl, Tensor moments, long ls, float noise, long seed, long stream) {
        MemorySegment zs = z.segment(), ks = kl == null ? null : kl.segment(), ms = moments.segment();
        chunks(d, z.numel(), (from, to) -> {
            float[] eps = new float[to - from];
            if (noise != 0f) Philox.normals(seed, stream, from, eps, 0, to - from);
            for (int i = from; i < to; i++) {
                long m = meanIndex(i, ls);
                float mean = ms.getAtIndex(F, m), lv = clampLogvar(ms.getAtIndex(F, m + ls));
                float std = (float) Math.exp(0.5f * lv);
                zs.setAtIndex(F, i, mean + noise * std * eps[i - from]);
                if (ks != null) ks.setAtIndex(F, i, 0.5f * (mean * mean + std * std - 1f - lv));
            }
        });
    }

    static void backward(JavaDevice d, Tensor dMoments, Tensor dz, Tensor moments, long ls, float w, long seed, long stream) {
        MemorySegment out = dMoments.segment(), g = dz.segment(), ms = moments.segment();
        chunks(d, dz.numel(), (from, to) -> {
            float[] eps = new float[to - from];
            Philox.normals(seed, stream, from, eps, 0, to - from);
            for (int i = from; i < to; i++) {
                long m = meanIndex(i, ls);
                float mean = ms.getAtIndex(F, m), raw = ms.getAtIndex(F, m + ls);
                float std = (float) Math.exp(0.5f * clampLogvar(raw)), gi = g.getAtIndex(F, i);
                out.setAtIndex(F, m, gi + w * mean);
                boolean inside = raw >= DiagonalGaussian.LOGVAR_MIN && raw <= DiagonalGaussian.LOGVAR_MAX;
                out.setAtIndex(F, m + ls, inside ? 0.5f * (gi * eps[i - from] * std + w * (std * std - 1f)) : 0f);
            }
        });
    }
}
