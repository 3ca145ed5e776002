package dev.diffuse.kernels.optim;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Java {@link Optim}: the per-element formulas of the Javadoc in the same float operation order as optim.cl,
 * over fixed chunks in parallel. The gradient norm sums each chunk in double and the chunk sums in order.
 */
final class OptimJava {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final int CHUNK = 1 << 16;

    private OptimJava() {}

    private interface Body { void run(int from, int to); }

    private static void chunks(JavaDevice d, int n, Body body) {
        d.parallelFor((n + CHUNK - 1) / CHUNK, c -> body.run(c * CHUNK, Math.min(n, (c + 1) * CHUNK)));
    }

    static void adamw(JavaDevice d, Tensor params, Tensor m, Tensor v, Tensor grads, Tensor clipScale, float gradScale,
                      Optim.Scalars s) {
        MemorySegment ps = params.segment(), ms = m.segment(), vs = v.segment(), gs = grads.segment();
        float clip = clipScale == null ? 1f : clipScale.segment().getAtIndex(F, 0);
        boolean hasClip = clipScale != null;
        chunks(d, (int) params.numel(), (from, to) -> {
            for (int i = from; i < to; i++) {
                float g = gs.getAtIndex(F, i) * gradScale;
                if (hasClip) g = g * clip;
                float pd = ps.getAtIndex(F, i) * s.decay();
                float mi = ms.getAtIndex(F, i);
                mi = mi + s.omb1() * (g - mi);
                float vi = vs.getAtIndex(F, i) * s.beta2() + s.omb2() * g * g;
                ms.setAtIndex(F, i, mi);
                vs.setAtIndex(F, i, vi);
                ps.setAtIndex(F, i, pd - s.stepSize() * (mi / ((float) Math.sqrt(vi) / s.bc2Sqrt() + s.eps())));
            }
        });
    }

    static void ema(JavaDevice d, Tensor ema, Tensor params, float omd) {
        MemorySegment es = ema.segment(), ps = params.segment();
        chunks(d, (int) ema.numel(), (from, to) -> {
            for (int i = from; i < to; i++) {
                float e = es.getAtIndex(F, i);
                es.setAtIndex(F, i, e - omd * (e - ps.getAtIndex(F, i)));
            }
        });
    }

    static void gradNorm(JavaDevice d, Tensor normOut, Tensor clipOut, Tensor grads, float gradScale, float maxNorm) {
        MemorySegment gs = grads.segment();
        int n = (int) grads.numel();
        double[] part = new double[(n + CHUNK - 1) / CHUNK];
        d.parallelFor(part.length, c -> {
            double acc = 0;
            for (int i = c * CHUNK, end = Math.min(n, i + CHUNK); i < end; i++) {
                double g = gs.getAtIndex(F, i);
                acc += g * g;
            }
            part[c] = acc;
        });
        double sum = 0;
        for (double p : part) sum += p;
        float norm = (float) (Math.abs((double) gradScale) * Math.sqrt(sum));
        float c = maxNorm / (norm + 1e-6f);
        normOut.segment().setAtIndex(F, 0, norm);
        clipOut.segment().setAtIndex(F, 0, Math.min(1f, c)); // Math.min propagates NaN like torch.clamp
    }
}
