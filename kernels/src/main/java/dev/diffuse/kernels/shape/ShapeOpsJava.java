package dev.diffuse.kernels.shape;

import static dev.diffuse.kernels.VectorMath.S;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;

import dev.diffuse.kernels.VectorMath;

import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Java {@link ShapeOps}: plain loops, one task per batch item or per (b, c) plane; the broadcast add and its
 * backward run over vector lanes with scalar tails (the add gives the plain loop's bits; the backward's sum has a
 * fixed order).
 */
final class ShapeOpsJava {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final int L = S.length();

    private ShapeOpsJava() {}

    static void concat(JavaDevice d, Tensor out, Tensor a, Tensor b) {
        long na = a.numel() / a.dim(0), nb = b.numel() / b.dim(0);
        MemorySegment os = out.segment(), as = a.segment(), bs = b.segment();
        d.parallelFor(a.dim(0), bi -> {
            MemorySegment.copy(as, bi * na * 4, os, bi * (na + nb) * 4, na * 4);
            MemorySegment.copy(bs, bi * nb * 4, os, (bi * (na + nb) + na) * 4, nb * 4);
        });
    }

    static void split(JavaDevice d, Tensor da, Tensor db, Tensor dout) {
        long na = da.numel() / da.dim(0), nb = db.numel() / db.dim(0);
        MemorySegment os = dout.segment(), as = da.segment(), bs = db.segment();
        d.parallelFor(da.dim(0), bi -> {
            MemorySegment.copy(os, bi * (na + nb) * 4, as, bi * na * 4, na * 4);
            MemorySegment.copy(os, (bi * (na + nb) + na) * 4, bs, bi * nb * 4, nb * 4);
        });
    }

    static void upsample(JavaDevice d, Tensor y, Tensor x) {
        int H = x.dim(2), W = x.dim(3);
        MemorySegment ys = y.segment(), xs = x.segment();
        d.parallelFor(x.dim(0) * x.dim(1), p -> {
            for (int h = 0; h < 2 * H; h++)
                for (int w = 0; w < 2 * W; w++)
                    ys.setAtIndex(F, ((long) p * 2 * H + h) * 2 * W + w, xs.getAtIndex(F, ((long) p * H + h / 2) * W + w / 2));
        });
    }

    static void upsampleBackward(JavaDevice d, Tensor dx, Tensor dy) {
        int H = dx.dim(2), W = dx.dim(3);
        MemorySegment dxs = dx.segment(), dys = dy.segment();
        d.parallelFor(dx.dim(0) * dx.dim(1), p -> {
            for (int h = 0; h < H; h++)
                for (int w = 0; w < W; w++) {
                    long r0 = ((long) p * 2 * H + 2 * h) * 2 * W + 2 * w, r1 = r0 + 2L * W;
                    float s = (dys.getAtIndex(F, r0) + dys.getAtIndex(F, r0 + 1)) + (dys.getAtIndex(F, r1) + dys.getAtIndex(F, r1 + 1));
                    dxs.setAtIndex(F, ((long) p * H + h) * W + w, s);
                }
        });
    }

    /** y = x + e[p] on each (b, c) plane p, over vector lanes (a masked vector ends each plane); planes in chunks. */
    static void addBroadcast(JavaDevice d, Tensor y, Tensor x, Tensor e) {
        int hw = x.dim(2) * x.dim(3), planes = x.dim(0) * x.dim(1), per = planesPerTask(hw);
        MemorySegment ys = y.segment(), xs = x.segment(), es = e.segment();
        d.parallelFor((planes + per - 1) / per, t -> {
            for (int p = t * per, end = Math.min(planes, p + per); p < end; p++) addToPlane(ys, xs, 4L * p * hw, hw, es.getAtIndex(F, p));
        });
    }

    static void addToPlane(MemorySegment ys, MemorySegment xs, long off, int hw, float v) {
        int i = 0;
        for (; i <= hw - L; i += L) FloatVector.fromMemorySegment(S, xs, off + 4L * i, NATIVE).add(v).intoMemorySegment(ys, off + 4L * i, NATIVE);
        for (; i < hw; i++) ys.set(F, off + 4L * i, xs.get(F, off + 4L * i) + v);
    }

    /** de[p] = sum over plane p of dy, in the fixed order of {@link VectorMath#sum}. */
    static void addBroadcastBackward(JavaDevice d, Tensor de, Tensor dy) {
        int hw = dy.dim(2) * dy.dim(3), planes = dy.dim(0) * dy.dim(1), per = planesPerTask(hw);
        MemorySegment des = de.segment(), dys = dy.segment();
        d.parallelFor((planes + per - 1) / per, t -> {
            for (int p = t * per, end = Math.min(planes, p + per); p < end; p++)
                des.setAtIndex(F, p, (float) VectorMath.sum(dys, 4L * p * hw, hw, 0f, false));
        });
    }

    /** Planes per task: about 64K elements, so small planes do not pay one task each. */
    static int planesPerTask(int hw) {
        return Math.max(1, (1 << 16) / Math.max(1, hw));
    }
}
