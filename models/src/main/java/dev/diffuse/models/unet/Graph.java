package dev.diffuse.models.unet;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Predicate;

import dev.diffuse.kernels.elementwise.Elementwise;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.MemoryBudget;

import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;

/**
 * Construction-time bookkeeping of a network built from {@link Node}s (the U-Net, and the VAE in
 * {@code dev.diffuse.models.vae}, which shares its layers): parameters (diffusers name + shape, in registration
 * order), activations (shapes without the batch dimension) and the scratch each layer needs. Nothing is allocated
 * until {@link #allocate}, so the same code that builds the model also lists its parameters
 * ({@link UNet2DModel#layout}). {@link #backward} runs a node list in reverse and routes the gradients.
 */
public final class Graph {
    /** Views are aligned like {@link Workspace#slab} parts so that OpenCL sub-buffers are legal. */
    public static final int ALIGN = Workspace.SLAB_ALIGN_BYTES / 4;

    /** One parameter tensor: its value {@code w} and gradient {@code g} are views into the two slabs. */
    public static final class Param {
        public final String name;
        public final int[] shape;
        public Tensor w, g;

        Param(String name, int[] shape) {
            this.name = name;
            this.shape = shape;
        }
    }

    /** An activation (maxBatch, shape...): its value, and in training mode its gradient buffer. */
    public static final class Act {
        public final int[] shape;
        public final boolean hasGrad;
        Tensor buf, grad;
        /** True while no gradient has been written into {@link #grad} in the current backward. */
        boolean fresh;
        /**
         * Inference memory plan: the index of the node that writes it (-1: written before the node list, e.g. the
         * input and the time embedding) and of the last node that reads it (MAX_VALUE: kept for the whole pass).
         */
        int first = -1, last = Integer.MAX_VALUE;

        Act(int[] shape, boolean hasGrad) {
            this.shape = shape;
            this.hasGrad = hasGrad;
        }

        /** The value for a batch of {@code b}. */
        public Tensor v(int b) { return batch(buf, b); }

        /** The gradient buffer for a batch of {@code b} (training graphs). */
        public Tensor g(int b) { return batch(grad, b); }
    }

    /** A bump allocator over one buffer: layers take temporaries and release them when done. */
    public static final class Scratch {
        private Tensor buf;
        private long top;

        public Tensor take(int... shape) {
            long n = Tensor.numel(shape), start = top;
            top += align(n);
            if (top > buf.numel())
                throw new IllegalStateException("U-Net scratch overflow: need " + top + " elements, have " + buf.numel()
                        + " (a layer under-declared its scratch; this is a bug)");
            return buf.view(start, shape);
        }

        public long mark() { return top; }

        long capacity() { return buf.numel(); }

        public void release(long mark) { top = mark; }

        /** Frees everything: a pass starts from an empty scratch, so a pass that failed half-way leaks nothing. */
        public void reset() { top = 0; }
    }

    /** GroupNorm groups and epsilon of every normalisation built on this graph (norm_num_groups, norm_eps). */
    public final int normGroups;
    public final float normEps;
    public final int maxBatch;
    public final boolean training;
    public final List<Param> params = new ArrayList<>();
    final List<Act> acts = new ArrayList<>();
    public final Scratch scratch = new Scratch();
    private long scratchNeed;
    /** Nodes registered by {@link #node} (only after {@link #beginNodes}), in execution order. */
    private final List<Node> nodes = new ArrayList<>();
    /** Index in {@link #acts} of the first activation not yet given to a node; -1: no plan (every act kept). */
    private int unowned = -1;

    /** @param training false: no gradient buffers nor backward scratch (inference) */
    public Graph(int normGroups, float normEps, int maxBatch, boolean training) {
        this.normGroups = normGroups;
        this.normEps = normEps;
        this.maxBatch = maxBatch;
        this.training = training;
    }

    public Param param(String name, int... shape) {
        Param p = new Param(name, shape);
        params.add(p);
        return p;
    }

    /** A kept activation of shape (maxBatch, shape...). */
    public Act act(int... shape) {
        Act a = new Act(shape, true);
        acts.add(a);
        return a;
    }

    /** Saved statistics (maxBatch, shape...), e.g. GroupNorm mean/rstd (B, G): no gradient buffer. */
    public Act stat(int... shape) {
        Act a = new Act(shape, false);
        acts.add(a);
        return a;
    }

    /** Declares that one step (a layer's forward) takes these (batch-less) temporaries at once. */
    public void needForward(int[]... shapes) { need(shapes); }

    /** Declares the temporaries of one backward step (ignored for inference-only models). */
    public void needBackward(int[]... shapes) {
        if (training) need(shapes);
    }

    private void need(int[]... shapes) {
        long n = 0;
        for (int[] s : shapes) n += align(Tensor.numel(s) * maxBatch);
        scratchNeed = Math.max(scratchNeed, n);
    }

    /**
     * Starts the inference memory plan: the activations declared so far (inputs, embeddings) live for the whole
     * pass; those declared from now on belong to the next {@link #node} registered. Without this call (and in
     * training graphs, whose backward reads every activation) each activation has its own buffer.
     */
    public void beginNodes() { unowned = acts.size(); }

    /**
     * Registers the next node of the pass, in execution order, as the writer of the activations declared since the
     * previous call. Its inputs are its {@link Node#ins()}; a node must not read an activation another way unless
     * that activation was declared before {@link #beginNodes} (like the time embedding).
     */
    public void node(Node n) {
        if (unowned < 0) return;
        for (int i = unowned; i < acts.size(); i++) {
            acts.get(i).first = nodes.size();
            acts.get(i).last = nodes.size();
        }
        unowned = acts.size();
        nodes.add(n);
    }

    /** Keeps {@code a} (the pass's result) until the pass ends: the caller reads it after the last node. */
    public void keep(Act a) { a.last = Integer.MAX_VALUE; }

    /**
     * Offsets (in floats) of every activation in one shared arena, and the arena's size as the last entry; null when
     * there is no plan. An inference pass needs an activation only from the node that writes it to the last node
     * that reads it, so two activations whose lifetimes do not meet share memory. Placement is first fit in
     * declaration order (which is execution order): an activation goes at the lowest offset where it overlaps no
     * placed activation that is still alive when it is written. A node's output never overlaps its inputs or its
     * own temporaries (all are alive at that node), so no kernel reads and writes the same memory.
     */
    private long[] plan() {
        if (training || unowned < 0 || nodes.isEmpty()) return null;
        for (int k = 0; k < nodes.size(); k++)
            for (Act in : nodes.get(k).ins())
                if (in.first >= 0 && in.last != Integer.MAX_VALUE) in.last = Math.max(in.last, k);
        int n = acts.size();
        long[] at = new long[n + 1], size = new long[n];
        for (int i = 0; i < n; i++) size[i] = align(Tensor.numel(acts.get(i).shape) * maxBatch);
        long top = 0;
        for (int i = 0; i < n; i++) {
            Act a = acts.get(i);
            List<long[]> busy = new ArrayList<>();   // [offset, end) of earlier activations still alive at a.first
            for (int j = 0; j < i; j++)
                if (acts.get(j).last >= a.first) busy.add(new long[]{at[j], at[j] + size[j]});
            busy.sort((x, y) -> Long.compare(x[0], y[0]));
            long off = 0;
            for (long[] r : busy) {
                if (off + size[i] <= r[0]) break;
                off = Math.max(off, r[1]);
            }
            at[i] = off;
            top = Math.max(top, off + size[i]);
        }
        at[n] = top;
        return at;
    }

    public Map<String, int[]> layout() {
        Map<String, int[]> m = new LinkedHashMap<>();
        for (Param p : params) m.put(p.name, p.shape.clone());
        return m;
    }

    /**
     * Bytes {@link #allocate} will take, computed the same way (slab padding included) without allocating: what a
     * model of this config and maxBatch costs, checked against the memory budget before anything is built.
     */
    public long bytesNeeded() {
        long slab = 0;
        for (Param p : params) slab = Math.addExact(slab, align(Tensor.numel(p.shape)));
        long floats = Math.addExact(training ? 2 * slab : slab, activationFloats(true)), maxAct = 0;
        for (Act a : acts) maxAct = Math.max(maxAct, align(Math.multiplyExact(Tensor.numel(a.shape), (long) maxBatch)));
        floats = Math.addExact(floats, scratchCapacity(maxAct));
        return Math.multiplyExact(floats, 4L);
    }

    /** Floats of the activations (and their gradients): the planned arena, or one buffer each ({@code planned} false). */
    long activationFloats(boolean planned) {
        long[] plan = planned ? plan() : null;
        if (plan != null) return plan[acts.size()];
        long floats = 0;
        for (Act a : acts) {
            long n = Math.multiplyExact(Tensor.numel(a.shape), (long) maxBatch);
            floats = Math.addExact(floats, training && a.hasGrad ? 2 * n : n);
        }
        return floats;
    }

    /** Scratch elements: the largest step's temporaries + two accumulation temporaries in backward (concat has two inputs). */
    private long scratchCapacity(long maxAct) { return Math.max(ALIGN, scratchNeed + (training ? 2 * maxAct : 0)); }

    /** What {@link #allocate(Device, String, String, String)} made: the workspace, the slabs and their named views. */
    public record Allocation(Workspace ws, Tensor params, Tensor grads, Map<String, Tensor> named, Map<String, Tensor> namedGrads) {}

    /**
     * Checks {@link #bytesNeeded} against the device's memory budget first (a refusal names {@code what} and
     * {@code wayOut}), then allocates everything in a new workspace {@code name}; grads and namedGrads are null / empty
     * for an inference graph.
     */
    public Allocation allocate(Device device, String name, String what, String wayOut) {
        long bytes;
        try {
            bytes = bytesNeeded();
        } catch (ArithmeticException e) {
            bytes = -1; // more than 8 EiB: MemoryBudget.require refuses it
        }
        MemoryBudget.require(device, what, bytes, wayOut);
        Workspace ws = new Workspace(device, name, bytes);
        Tensor[] slabs;
        try {
            slabs = allocate(ws);
        } catch (RuntimeException e) {
            ws.close();
            throw e;
        }
        Map<String, Tensor> named = new LinkedHashMap<>(), namedGrads = new LinkedHashMap<>();
        for (Param p : params) {
            named.put(p.name, p.w);
            if (p.g != null) namedGrads.put(p.name, p.g);
        }
        return new Allocation(ws, slabs[0], slabs[1], named, namedGrads);
    }

    /** Allocates the parameter slab (and gradient slab), activations, gradients and scratch in {@code ws}. */
    public Tensor[] allocate(Workspace ws) {
        int[][] shapes = params.stream().map(p -> p.shape).toArray(int[][]::new);
        Tensor[] w = ws.slab(shapes);
        Tensor[] g = training ? ws.slab(shapes) : null;
        for (int i = 0; i < params.size(); i++) {
            params.get(i).w = w[i + 1];
            if (g != null) params.get(i).g = g[i + 1];
        }
        long maxAct = 0;
        long[] plan = plan();
        Tensor arena = plan == null ? null : ws.tensor(Math.toIntExact(Math.max(ALIGN, plan[acts.size()])));
        for (int i = 0; i < acts.size(); i++) {
            Act a = acts.get(i);
            a.buf = plan != null ? arena.view(plan[i], withBatch(maxBatch, a.shape)) : ws.tensor(withBatch(maxBatch, a.shape));
            if (training && a.hasGrad) a.grad = ws.tensor(withBatch(maxBatch, a.shape));
            maxAct = Math.max(maxAct, align(Tensor.numel(a.shape) * maxBatch));
        }
        scratch.buf = ws.tensor(Math.toIntExact(scratchCapacity(maxAct)));
        return new Tensor[]{w[0], g == null ? null : g[0]};
    }

    /**
     * Starts a backward pass: empty scratch, every activation's gradient unwritten, and {@code dOut} as the gradient
     * of {@code out} (the tape's result).
     */
    public void beginBackward(Act out, int b, Tensor dOut) {
        scratch.reset();
        for (Act a : acts) a.fresh = true;
        out.g(b).copyFrom(dOut);
        out.fresh = false;
    }

    /**
     * Runs the backward of {@code nodes} in reverse order. The first consumer (in reverse order) of an activation
     * writes its gradient buffer; later consumers write into scratch and add, so an activation read twice (a skip
     * connection) gets the sum. Inputs for which {@code noGrad} holds (e.g. the model input when dx is not wanted)
     * get no gradient.
     */
    public void backward(List<? extends Node> nodes, int b, Predicate<Act> noGrad) {
        for (int k = nodes.size() - 1; k >= 0; k--) {
            Node n = nodes.get(k);
            Act[] ins = n.ins();
            Tensor[] d = new Tensor[ins.length];
            Tensor[] pending = new Tensor[ins.length];
            long mark = scratch.mark();
            for (int i = 0; i < ins.length; i++) {
                Act a = ins[i];
                if (!a.hasGrad || noGrad.test(a)) continue;
                if (a.fresh) {
                    d[i] = a.g(b);
                    a.fresh = false;
                } else {
                    d[i] = pending[i] = scratch.take(withBatch(b, a.shape));
                }
            }
            n.backward(b, d);
            for (int i = 0; i < ins.length; i++)
                if (pending[i] != null) Elementwise.add(ins[i].g(b), ins[i].g(b), pending[i]);
            scratch.release(mark);
        }
    }

    /**
     * PyTorch's default initialisation, seeded: conv/linear weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in))
     * (kaiming_uniform with a = sqrt(5)), GroupNorm weight 1 and bias 0, class-embedding table N(0, 1).
     */
    public void initialize(long seed) {
        Map<String, int[]> shapes = layout();
        for (Param p : params) {
            SplittableRandom r = new SplittableRandom(seed * 1_000_003L + p.name.hashCode());
            float[] v = new float[Math.toIntExact(Tensor.numel(p.shape))];
            boolean norm = p.name.contains("norm");
            if (p.name.startsWith("class_embedding")) {
                for (int i = 0; i < v.length; i++) v[i] = (float) gaussian(r);
            } else if (norm) {
                if (p.name.endsWith(".weight")) Arrays.fill(v, 1f);
            } else {
                int[] w = shapes.get(p.name.substring(0, p.name.lastIndexOf('.')) + ".weight");
                long fanIn = Tensor.numel(w) / w[0];
                double bound = 1.0 / Math.sqrt(fanIn);
                for (int i = 0; i < v.length; i++) v[i] = (float) ((2 * r.nextDouble() - 1) * bound);
            }
            p.w.upload(v);
        }
    }

    private static double gaussian(SplittableRandom r) {
        double u = r.nextDouble(), w = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * w);
    }

    static long align(long n) { return (n + ALIGN - 1) / ALIGN * ALIGN; }

    public static int[] withBatch(int b, int... shape) {
        int[] s = new int[shape.length + 1];
        s[0] = b;
        System.arraycopy(shape, 0, s, 1, shape.length);
        return s;
    }

    /** The first {@code b} rows of a (maxBatch, ...) tensor. */
    public static Tensor batch(Tensor t, int b) {
        if (t.dim(0) == b) return t;
        int[] s = t.shape();
        s[0] = b;
        return t.view(0, s);
    }
}
