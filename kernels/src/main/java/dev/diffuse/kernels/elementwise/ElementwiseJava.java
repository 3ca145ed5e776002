package dev.diffuse.kernels.elementwise;

import static dev.diffuse.kernels.VectorMath.S;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Java {@link Elementwise}: each formula of the class comment evaluated over {@link FloatVector} lanes, in place
 * on the tensors' memory, split into fixed chunks of {@value #CHUNK} elements across threads (a masked vector ends
 * each chunk). Lanes use the same IEEE operations in the same order as the scalar formula (no FMA), so the bits
 * equal the plain loop's, for every thread count.
 */
final class ElementwiseJava {
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final int CHUNK = 1 << 16, L = S.length();

    private ElementwiseJava() {}

    interface Body { void run(long from, long to); }

    static void chunks(JavaDevice d, long n, Body body) {
        int chunks = (int) ((n + CHUNK - 1) / CHUNK);
        d.parallelFor(chunks, c -> body.run((long) c * CHUNK, Math.min(n, (long) (c + 1) * CHUNK)));
    }

    static void scale(JavaDevice d, Tensor y, Tensor x, float a) {
        MemorySegment ys = y.segment(), xs = x.segment();
        chunks(d, y.numel(), (from, to) -> {
            for (long i = from; i < to; i += L) {
                VectorMask<Float> m = S.indexInRange(i, to);
                FloatVector.fromMemorySegment(S, xs, 4 * i, NATIVE, m).mul(a).intoMemorySegment(ys, 4 * i, NATIVE, m);
            }
        });
    }

    static void mul(JavaDevice d, Tensor z, Tensor x, Tensor y) {
        MemorySegment zs = z.segment(), xs = x.segment(), ys = y.segment();
        chunks(d, z.numel(), (from, to) -> {
            for (long i = from; i < to; i += L) {
                VectorMask<Float> m = S.indexInRange(i, to);
                FloatVector a = FloatVector.fromMemorySegment(S, xs, 4 * i, NATIVE, m), b = FloatVector.fromMemorySegment(S, ys, 4 * i, NATIVE, m);
                a.mul(b).intoMemorySegment(zs, 4 * i, NATIVE, m);
            }
        });
    }

    /** z = x + y: its own loop (not axpby with a = b = 1) so the sum needs no multiplies. */
    static void add(JavaDevice d, Tensor z, Tensor x, Tensor y) {
        MemorySegment zs = z.segment(), xs = x.segment(), ys = y.segment();
        chunks(d, z.numel(), (from, to) -> {
            for (long i = from; i < to; i += L) {
                VectorMask<Float> m = S.indexInRange(i, to);
                FloatVector a = FloatVector.fromMemorySegment(S, xs, 4 * i, NATIVE, m), b = FloatVector.fromMemorySegment(S, ys, 4 * i, NATIVE, m);
                a.add(b).intoMemorySegment(zs, 4 * i, NATIVE, m);
            }
        });
    }

    static void axpby(JavaDevice d, Tensor z, float a, Tensor x, float b, Tensor y) {
        MemorySegment zs = z.segment(), xs = x.segment(), ys = y.segment();
        chunks(d, z.numel(), (from, to) -> {
            for (long i = from; i < to; i += L) {
                VectorMask<Float> m = S.indexInRange(i, to);
                FloatVector xv = FloatVector.fromMemorySegment(S, xs, 4 * i, NATIVE, m), yv = FloatVector.fromMemorySegment(S, ys, 4 * i, NATIVE, m);
                xv.mul(a).add(yv.mul(b)).intoMemorySegment(zs, 4 * i, NATIVE, m);
            }
        });
    }

    static void fill(JavaDevice d, Tensor y, float v) {
        MemorySegment ys = y.segment();
        if (Float.floatToRawIntBits(v) == 0) {   // +0: the bytes are zero
            chunks(d, y.numel(), (from, to) -> ys.asSlice(4 * from, 4 * (to - from)).fill((byte) 0));
            return;
        }
        FloatVector vv = FloatVector.broadcast(S, v);
        chunks(d, y.numel(), (from, to) -> {
            for (long i = from; i < to; i += L) vv.intoMemorySegment(ys, 4 * i, NATIVE, S.indexInRange(i, to));
        });
    }
}
