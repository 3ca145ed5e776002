package dev.diffuse.kernels.optim;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import dev.diffuse.kernels.VectorMath;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Java {@link Optim}: the per-element formulas of the Javadoc in the same float operation order as optim.cl,
 * over fixed chunks in parallel. AdamW and EMA run {@link FloatVector} lanes with the scalar formula for the tail;
 * both use the same IEEE operations in the same order (no FMA), so lanes and tail agree bit for bit. The gradient
 * norm sums each chunk's squares with {@link VectorMath#sum} (float lanes over blocks, blocks in double) and the
 * chunk sums in order: the same bits for every thread count.
 */
final class OptimJava {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final int CHUNK = 1 << 16; // a multiple of every vector length

    private OptimJava() {}

    private interface Body { void run(int from, int to); }

    private static void chunks(JavaDevice d, int n, Body body) {
        d.parallelFor((n + CHUNK - 1) / CHUNK, c -> body.run(c * CHUNK, Math.min(n, (c + 1) * CHUNK)));
    }

    static void adamw(JavaDevice d, Tensor params, Tensor m, Tensor v, Tensor grads, Tensor clipScale, float gradScale,
                      Optim.Scalars s) {
        MemorySegment ps = params.segment(), ms = m.segment(), vs = v.segment(), gs = grads.segment();
        boolean hasClip = clipScale != null;
        float c = hasClip ? clipScale.segment().getAtIndex(F, 0) : 1f;
        chunks(d, (int) params.numel(), (from, to) -> {
            int i = from;
            for (; i <= to - S.length(); i += S.length()) {
                long o = 4L * i;
                FloatVector g = FloatVector.fromMemorySegment(S, gs, o, NATIVE).mul(gradScale);
                if (hasClip) g = g.mul(c);
                FloatVector pd = FloatVector.fromMemorySegment(S, ps, o, NATIVE).mul(s.decay());
                FloatVector mi = FloatVector.fromMemorySegment(S, ms, o, NATIVE);
                mi = mi.add(g.sub(mi).mul(s.omb1()));
                FloatVector vi = FloatVector.fromMemorySegment(S, vs, o, NATIVE).mul(s.beta2()).add(g.mul(s.omb2()).mul(g));
                mi.intoMemorySegment(ms, o, NATIVE);
                vi.intoMemorySegment(vs, o, NATIVE);
                FloatVector denom = vi.sqrt().div(s.bc2Sqrt()).add(s.eps());
                pd.sub(mi.div(denom).mul(s.stepSize())).intoMemorySegment(ps, o, NATIVE);
            }
            for (; i < to; i++) {
                float g = gs.getAtIndex(F, i) * gradScale;
                if (hasClip) g = g * c;
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
            int i = from;
            for (; i <= to - S.length(); i += S.length()) {
                FloatVector e = FloatVector.fromMemorySegment(S, es, 4L * i, NATIVE);
                e.sub(e.sub(FloatVector.fromMemorySegment(S, ps, 4L * i, NATIVE)).mul(omd)).intoMemorySegment(es, 4L * i, NATIVE);
            }
            for (; i < to; i++) {
                float e = es.getAtIndex(F, i);
                es.setAtIndex(F, i, e - omd * (e - ps.getAtIndex(F, i)));
            }
        });
    }

    static void gradNorm(JavaDevice d, Tensor normOut, Tensor clipOut, Tensor grads, float gradScale, float maxNorm) {
        MemorySegment gs = grads.segment();
        int n = (int) grads.numel();
        double[] part = new double[(n + CHUNK - 1) / CHUNK];
        d.parallelFor(part.length, c -> part[c] = VectorMath.sum(gs, 4L * c * CHUNK, Math.min(n - c * CHUNK, CHUNK), 0f, true));
        double sum = 0;
        for (double p : part) sum += p;
        float norm = (float) (Math.abs((double) gradScale) * Math.sqrt(sum));
        float c = maxNorm / (norm + 1e-6f);
        normOut.segment().setAtIndex(F, 0, norm);
        clipOut.segment().setAtIndex(F, 0, Math.min(1f, c)); // Math.min propagates NaN like torch.clamp
    }
}
