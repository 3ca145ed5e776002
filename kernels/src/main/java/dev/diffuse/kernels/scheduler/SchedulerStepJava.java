package dev.diffuse.kernels.scheduler;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.Tensor;

/** Java device for scheduler.cl: the same float formulas and the same Philox noise; the quantile by sorting. */
final class SchedulerStepJava {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final int CHUNK = 1 << 14; // a multiple of 4: chunks start on Philox block boundaries

    private SchedulerStepJava() {}

    static void step(JavaDevice dev, Tensor out, Tensor x0Out, Tensor x, Tensor m, Tensor thr, SchedulerStep.Coefficients k,
                     int per, int stride, Noise noise, long stream) {
        MemorySegment o = out.segment(), xs = x.segment(), ms = m.segment();
        MemorySegment x0s = x0Out == null ? null : x0Out.segment(), ts = thr == null ? null : thr.segment();
        float p = (float) k.p(), q = (float) k.q(), lo = (float) k.lo(), hi = (float) k.hi();
        float a = (float) k.a(), b = (float) k.b(), d = (float) k.d(), c = (float) k.c();
        float lnBeta = (float) k.lnBeta(), lnVar = (float) k.lnVar();
        long n = out.numel();
        dev.parallelFor((int) ((n + CHUNK - 1) / CHUNK), ch -> {
            int from = ch * CHUNK, len = (int) Math.min(CHUNK, n - from);
            float[] z = null;
            if (k.noisy()) {
                z = new float[len];
                noise.normals(stream, n, from, z, len);
            }
            for (int t = 0; t < len; t++) {
                int i = from + t, smp = i / per, j = i - smp * per;
                long mi = (long) smp * stride + j;
                float xi = xs.getAtIndex(F, i), mv = ms.getAtIndex(F, mi);
                float x0 = p * xi + q * mv;
                switch (k.clip()) {
                    case THRESHOLD -> {
                        float s = ts.getAtIndex(F, smp);
                        x0 = Math.min(Math.max(x0, -s), s) / s;
                    }
                    case CLIP -> x0 = Math.min(Math.max(x0, lo), hi);
                    case NONE -> { }
                }
                float std = switch (k.variance()) {
                    case FIXED -> c;
                    case LEARNED -> (float) Math.sqrt(ms.getAtIndex(F, mi + per));
                    case LEARNED_RANGE -> {
                        float f = (ms.getAtIndex(F, mi + per) + 1f) * 0.5f;
                        yield (float) Math.exp(0.5f * (f * lnBeta + (1f - f) * lnVar));
                    }
                };
                if (x0s != null) x0s.setAtIndex(F, i, x0);
                o.setAtIndex(F, i, a * xi + b * x0 + d * mv + (z == null ? 0f : std * z[t]));
            }
        });
    }

    static void absQuantile(JavaDevice dev, Tensor thr, Tensor x, Tensor m, float p, float q, int per, int stride,
                            SchedulerStep.Rank r, float smax) {
        MemorySegment xs = x.segment(), ms = m.segment(), ts = thr.segment();
        dev.parallelFor(x.dim(0), smp -> {
            float[] u = new float[per];
            for (int j = 0; j < per; j++)
                u[j] = Math.abs(p * xs.getAtIndex(F, (long) smp * per + j) + q * ms.getAtIndex(F, (long) smp * stride + j));
            Arrays.sort(u);
            float u0 = u[r.lo()], u1 = u[r.hi()], w = r.weight();
            float s = w < 0.5f ? u0 + w * (u1 - u0) : u1 - (u1 - u0) * (1f - w);
            ts.setAtIndex(F, smp, Math.min(Math.max(s, 1f), smax));
        });
    }
}
