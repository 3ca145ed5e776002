package dev.diffuse.kernels.activation;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.diffuse.kernels.VectorMath;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Java {@link Activation}: {@code siluReference} and {@code siluBackwardReference} are the readable spec (plain
 * loops, double Math.exp); the device runs {@code silu} and {@code siluBackward}, the same formulas over vector
 * lanes ({@link VectorMath#affineSiluForward}: exp within 2 ulp, the same bits in every JIT mode), in place on the tensors'
 * memory. Work is split into fixed chunks of {@value #CHUNK} elements, so every element is computed the same way
 * whatever the thread count.
 */
final class ActivationJava {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final int CHUNK = 1 << 16;

    private ActivationJava() {}

    interface Body { void run(long from, long to); }

    static void chunks(JavaDevice d, long n, Body body) {
        int chunks = (int) ((n + CHUNK - 1) / CHUNK);
        d.parallelFor(chunks, c -> body.run((long) c * CHUNK, Math.min(n, (long) (c + 1) * CHUNK)));
    }

    static float sigmoid(float x) { return (float) (1.0 / (1.0 + Math.exp(-x))); }

    static void siluReference(JavaDevice d, Tensor y, Tensor x) {
        MemorySegment ys = y.segment(), xs = x.segment();
        chunks(d, y.numel(), (from, to) -> {
            for (long i = from; i < to; i++) {
                float v = xs.getAtIndex(F, i);
                ys.setAtIndex(F, i, v * sigmoid(v));
            }
        });
    }

    static void siluBackwardReference(JavaDevice d, Tensor dx, Tensor dy, Tensor x) {
        MemorySegment dxs = dx.segment(), dys = dy.segment(), xs = x.segment();
        chunks(d, dx.numel(), (from, to) -> {
            for (long i = from; i < to; i++) {
                float v = xs.getAtIndex(F, i), s = sigmoid(v);
                dxs.setAtIndex(F, i, dys.getAtIndex(F, i) * (s + v * s * (1 - s)));
            }
        });
    }

    static void silu(JavaDevice d, Tensor y, Tensor x) {
        MemorySegment ys = y.segment(), xs = x.segment();
        chunks(d, y.numel(), (from, to) -> VectorMath.affineSiluForward(true, ys, xs, from, to - from, 0f, 1f, 1f, 0f));
    }

    static void siluBackward(JavaDevice d, Tensor dx, Tensor dy, Tensor x) {
        MemorySegment dxs = dx.segment(), dys = dy.segment(), xs = x.segment();
        chunks(d, dx.numel(), (from, to) -> VectorMath.affineSiluBackward(true, dxs, xs, dys, from, to - from, 0f, 1f, 1f, 0f, null, 0, 0));
    }
}
