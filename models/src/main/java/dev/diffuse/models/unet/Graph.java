package dev.diffuse.models.unet;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;

/**
 * Construction-time bookkeeping of the U-Net: parameters (diffusers name + shape, in registration order), activations
 * (shapes without the batch dimension) and the scratch each layer needs. Nothing is allocated until
 * {@link #allocate}, so the same code that builds the model also lists its parameters ({@link UNet2DModel#layout}).
 */
final class Graph {
    /** Views are aligned like {@link Workspace#slab} parts so that OpenCL sub-buffers are legal. */
    static final int ALIGN = Workspace.SLAB_ALIGN_BYTES / 4;

    /** One parameter tensor: its value {@code w} and gradient {@code g} are views into the two slabs. */
    static final class Param {
        final String name;
        final int[] shape;
        Tensor w, g;

        Param(String name, int[] shape) {
            this.name = name;
            this.shape = shape;
        }
    }

    /** An activation (maxBatch, shape...): its value, and in training mode its gradient buffer. */
    static final class Act {
        final int[] shape;
        final boolean hasGrad;
        Tensor buf, grad;
        /** True while no gradient has been written into {@link #grad} in the current backward. */
        boolean fresh;

        Act(int[] shape, boolean hasGrad) {
            this.shape = shape;
            this.hasGrad = hasGrad;
        }

        Tensor v(int b) { return batch(buf, b); }

        Tensor g(int b) { return batch(grad, b); }
    }

    /** A bump allocator over one buffer: layers take temporaries and release them when done. */
    static final class Scratch {
        private Tensor buf;
        private long top;

        Tensor take(int... shape) {
            long n = Tensor.numel(shape), start = top;
            top += align(n);
            if (top > buf.numel())
                throw new IllegalStateException("U-Net scratch overflow: need " + top + " elements, have " + buf.numel()
                        + " (a layer under-declared its scratch; this is a bug)");
            return buf.view(start, shape);
        }

        long mark() { return top; }

        long capacity() { return buf.numel(); }

        void release(long mark) { top = mark; }

        /** Frees everything: a pass starts from an empty scratch, so a pass that failed half-way leaks nothing. */
        void reset() { top = 0; }
    }

    final UNetConfig cfg;
    final int maxBatch;
    final boolean training;
    final List<Param> params = new ArrayList<>();
    final List<Act> acts = new ArrayList<>();
    final Scratch scratch = new Scratch();
    private long scratchNeed;

    Graph(UNetConfig cfg, int maxBatch, boolean training) {
        this.cfg = cfg;
        this.maxBatch = maxBatch;
        this.training = training;
    }

    Param param(String name, int... shape) {
        Param p = new Param(name, shape);
        params.add(p);
        return p;
    }

    /** A kept activation of shape (maxBatch, shape...). */
    Act act(int... shape) {
        Act a = new Act(shape, true);
        acts.add(a);
        return a;
    }

    /** Saved statistics (maxBatch, shape...), e.g. GroupNorm mean/rstd (B, G): no gradient buffer. */
    Act stat(int... shape) {
        Act a = new Act(shape, false);
        acts.add(a);
        return a;
    }

    /** Declares that one step (a layer's forward) takes these (batch-less) temporaries at once. */
    void needForward(int[]... shapes) { need(shapes); }

    /** Declares the temporaries of one backward step (ignored for inference-only models). */
    void needBackward(int[]... shapes) {
        if (training) need(shapes);
    }

    private void need(int[]... shapes) {
        long n = 0;
        for (int[] s : shapes) n += align(Tensor.numel(s) * maxBatch);
        scratchNeed = Math.max(scratchNeed, n);
    }

    Map<String, int[]> layout() {
        Map<String, int[]> m = new LinkedHashMap<>();
        for (Param p : params) m.put(p.name, p.shape.clone());
        return m;
    }

    /**
     * Bytes {@link #allocate} will take, computed the same way (slab padding included) without allocating: what a
     * model of this config and maxBatch costs, checked against the memory budget before anything is built.
     */
    long bytesNeeded() {
        long slab = 0;
        for (Param p : params) slab = Math.addExact(slab, align(Tensor.numel(p.shape)));
        long floats = training ? 2 * slab : slab, maxAct = 0;
        for (Act a : acts) {
            long n = Math.multiplyExact(Tensor.numel(a.shape), (long) maxBatch);
            floats = Math.addExact(floats, training && a.hasGrad ? 2 * n : n);
            maxAct = Math.max(maxAct, align(n));
        }
        floats = Math.addExact(floats, scratchCapacity(maxAct));
        return Math.multiplyExact(floats, 4L);
    }

    /** Scratch elements: the largest step's temporaries + two accumulation temporaries in backward (concat has two inputs). */
    private long scratchCapacity(long maxAct) { return Math.max(ALIGN, scratchNeed + (training ? 2 * maxAct : 0)); }

    /** Allocates the parameter slab (and gradient slab), activations, gradients and scratch in {@code ws}. */
    Tensor[] allocate(Workspace ws) {
        int[][] shapes = params.stream().map(p -> p.shape).toArray(int[][]::new);
        Tensor[] w = ws.slab(shapes);
        Tensor[] g = training ? ws.slab(shapes) : null;
        for (int i = 0; i < params.size(); i++) {
            params.get(i).w = w[i + 1];
            if (g != null) params.get(i).g = g[i + 1];
        }
        long maxAct = 0;
        for (Act a : acts) {
            a.buf = ws.tensor(withBatch(maxBatch, a.shape));
            if (training && a.hasGrad) a.grad = ws.tensor(withBatch(maxBatch, a.shape));
            maxAct = Math.max(maxAct, align(Tensor.numel(a.shape) * maxBatch));
        }
        scratch.buf = ws.tensor(Math.toIntExact(scratchCapacity(maxAct)));
        return new Tensor[]{w[0], g == null ? null : g[0]};
    }

    static long align(long n) { return (n + ALIGN - 1) / ALIGN * ALIGN; }

    static int[] withBatch(int b, int... shape) {
        int[] s = new int[shape.length + 1];
        s[0] = b;
        System.arraycopy(shape, 0, s, 1, shape.length);
        return s;
    }

    /** The first {@code b} rows of a (maxBatch, ...) tensor. */
    static Tensor batch(Tensor t, int b) {
        if (t.dim(0) == b) return t;
        int[] s = t.shape();
        s[0] = b;
        return t.view(0, s);
    }
}
