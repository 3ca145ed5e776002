package dev.diffuse.kernels.elementwise;

import static dev.diffuse.kernels.VectorMath.S;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;

import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Java {@link Elementwise}: each formula of the class comment evaluated over {@link FloatVector} lanes, in place
 * on the tensors' memory, split into fixed chunks of {@value #CHUNK} elements across threads; the last elements of a
 * chunk that fill no vector run the same formula in scalar code. Lanes and scalar code use the same IEEE operations
 * in the same order (no FMA), so the bits equal the plain loop's, for every thread count.
 */
final class ElementwiseJava {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final int CHUNK = 1 << 16, L = S.length();

    private ElementwiseJava() {}

    interface Body { void run(long from, long to); }

    static void chunks(JavaDevice d, long n, Body body) {
        int chunks = (int) ((n + CHUNK - 1) / CHUNK);
        d.parallelFor(chunks, c -> body.run((long) c * CHUNK, Math.min(n, (long) (c + 1) * CHUNK)));
    }

    static FloatVector at(MemorySegment s, long i) { return FloatVector.fromMemorySegment(S, s, 4 * i, NATIVE); }

    static void scale(JavaDevice d, Tensor y, Tensor x, float a) {
        MemorySegment ys = y.segment(), xs = x.segment();
        chunks(d, y.numel(), (from, to) -> {
            long i = from;
            for (; i <= to - L; i += L) at(xs, i).mul(a).intoMemorySegment(ys, 4 * i, NATIVE);
            for (; i < to; i++) ys.setAtIndex(F, i, xs.getAtIndex(F, i) * a);
        });
    }

    static void mul(JavaDevice d, Tensor z, Tensor x, Tensor y) {
        MemorySegment zs = z.segment(), xs = x.segment(), ys = y.segment();
        chunks(d, z.numel(), (from, to) -> {
            long i = from;
            for (; i <= to - L; i += L) at(xs, i).mul(at(ys, i)).intoMemorySegment(zs, 4 * i, NATIVE);
            for (; i < to; i++) zs.setAtIndex(F, i, xs.getAtIndex(F, i) * ys.getAtIndex(F, i));
        });
    }

    /** z = x + y: its own loop (not axpby with a = b = 1) so the sum needs no multiplies. */
    static void add(JavaDevice d, Tensor z, Tensor x, Tensor y) {
        MemorySegment zs = z.segment(), xs = x.segment(), ys = y.segment();
        chunks(d, z.numel(), (from, to) -> {
            long i = from;
            for (; i <= to - L; i += L) at(xs, i).add(at(ys, i)).intoMemorySegment(zs, 4 * i, NATIVE);
            for (; i < to; i++) zs.setAtIndex(F, i, xs.getAtIndex(F, i) + ys.getAtIndex(F, i));
        });
    }

    static void axpby(JavaDevice d, Tensor z, float a, Tensor x, float b, Tensor y) {
        MemorySegment zs = z.segment(), xs = x.segment(), ys = y.segment();
        chunks(d, z.numel(), (from, to) -> {
            long i = from;
            for (; i <= to - L; i += L) at(xs, i).mul(a).add(at(ys, i).mul(b)).intoMemorySegment(zs, 4 * i, NATIVE);
            for (; i < to; i++) zs.setAtIndex(F, i, a * xs.getAtIndex(F, i) + b * ys.getAtIndex(F, i));
        });
    }

    static void fill(JavaDevice d, Tensor y, float v) {
        MemorySegment ys = y.segment();
        if (Float.floatToRawIntBits(v) == 0) {   // +0: the bytes are zero
            chunks(d, y.numel(), (from, to) -> ys.asSlice(4 * from, 4 * (to - from)).fill((byte) 0));
            return;
        }
        chunks(d, y.numel(), (from, to) -> {
            FloatVector vv = FloatVector.broadcast(S, v);
            long i = from;
            for (; i <= to - L; i += L) vv.intoMemorySegment(ys, 4 * i, NATIVE);
            for (; i < to; i++) ys.setAtIndex(F, i, v);
        });
    }
}
