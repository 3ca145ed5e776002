package dev.diffuse.kernels.elementwise;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/** Java reference for {@link Elementwise}: plain loops over the segments, split into fixed chunks across threads. */
final class ElementwiseJava {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final int CHUNK = 1 << 16;

    private ElementwiseJava() {}

    interface Body { void run(long from, long to); }

    static void chunks(JavaDevice d, long n, Body body) {
        int chunks = (int) ((n + CHUNK - 1) / CHUNK);
        d.parallelFor(chunks, c -> body.run((long) c * CHUNK, Math.min(n, (long) (c + 1) * CHUNK)));
    }

    static void scale(JavaDevice d, Tensor y, Tensor x, float a) {
        MemorySegment ys = y.segment(), xs = x.segment();
        chunks(d, y.numel(), (from, to) -> {
            for (long i = from; i < to; i++) ys.setAtIndex(F, i, a * xs.getAtIndex(F, i));
        });
    }

    static void mul(JavaDevice d, Tensor z, Tensor x, Tensor y) {
        MemorySegment zs = z.segment(), xs = x.segment(), ys = y.segment();
        chunks(d, z.numel(), (from, to) -> {
            for (long i = from; i < to; i++) zs.setAtIndex(F, i, xs.getAtIndex(F, i) * ys.getAtIndex(F, i));
        });
    }

    static void axpby(JavaDevice d, Tensor z, float a, Tensor x, float b, Tensor y) {
        MemorySegment zs = z.segment(), xs = x.segment(), ys = y.segment();
        chunks(d, z.numel(), (from, to) -> {
            for (long i = from; i < to; i++) zs.setAtIndex(F, i, a * xs.getAtIndex(F, i) + b * ys.getAtIndex(F, i));
        });
    }

    static void fill(JavaDevice d, Tensor y, float v) {
        y.segment().fill((byte) 0);
        if (v != 0f) {
            MemorySegment ys = y.segment();
            chunks(d, y.numel(), (from, to) -> {
                for (long i = from; i < to; i++) ys.setAtIndex(F, i, v);
            });
        }
    }
}
