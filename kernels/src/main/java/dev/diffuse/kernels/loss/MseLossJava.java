package dev.diffuse.kernels.loss;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Java {@link MseLoss}: the forward sums each fixed chunk of elements in double, then adds the chunk sums in
 * chunk order, so the result does not depend on thread scheduling.
 */
final class MseLossJava {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final int CHUNK = 1 << 15;

    private MseLossJava() {}

    static void forward(JavaDevice d, Tensor out, Tensor pred, Tensor target, Tensor w, int per) {
        MemorySegment ps = pred.segment(), ts = target.segment(), ws = w == null ? null : w.segment();
        int n = (int) pred.numel(), chunks = (n + CHUNK - 1) / CHUNK;
        double[] part = new double[chunks];
        d.parallelFor(chunks, c -> {
            double acc = 0;
            for (int i = c * CHUNK, end = Math.min(n, i + CHUNK); i < end; i++) {
                double e = (double) ps.getAtIndex(F, i) - ts.getAtIndex(F, i);
                acc += (ws == null ? 1.0 : ws.getAtIndex(F, i / per)) * e * e;
            }
            part[c] = acc;
        });
        double sum = 0;
        for (double p : part) sum += p;
        out.segment().setAtIndex(F, 0, (float) (sum / n));
    }

    static void backward(JavaDevice d, Tensor dpred, Tensor pred, Tensor target, Tensor w, int per, float dL) {
        MemorySegment gs = dpred.segment(), ps = pred.segment(), ts = target.segment(), ws = w == null ? null : w.segment();
        int n = (int) pred.numel(), chunks = (n + CHUNK - 1) / CHUNK;
        float scale = 2f * dL / n;
        d.parallelFor(chunks, c -> {
            for (int i = c * CHUNK, end = Math.min(n, i + CHUNK); i < end; i++) {
                float g = ws == null ? scale : scale * ws.getAtIndex(F, i / per);
                gs.setAtIndex(F, i, g * (ps.getAtIndex(F, i) - ts.getAtIndex(F, i)));
            }
        });
    }
}
