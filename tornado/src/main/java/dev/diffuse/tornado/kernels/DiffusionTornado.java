package dev.diffuse.tornado.kernels;

import dev.diffuse.tornado.Tasks;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The fused diffusion updates of {@code diffusion.cl} for TornadoVM, with the noise drawn in the kernel from the
 * same counter-based stream ({@link PhiloxTornado}), so a seed gives the same z on every device:
 * <pre>
 *   q_sample        x_t = a[b] x0 + s[b] eps                 eps given, or drawn (element i: normal i of the stream)
 *   step            x'  = a x + b m + b2 m2 + c z
 *   step_clip_x0    x0  = clamp(p x + q m, lo, hi);  x' = a x + b x0 + d m + c z
 * </pre>
 * One work-item per Philox block (four consecutive elements); z is not computed when c = 0. Tensors are element
 * offsets into one array {@code v}; outputs may alias inputs (each element is read before it is written by the same
 * work-item).
 *
 * <p>{@link #stepClipX0Table} is the in-loop form for samplers: TornadoVM folds scalar arguments into the compiled
 * kernel, so everything that changes from step to step or run to run is read from device arrays instead: the
 * per-step scalars from row k = counter[0] of a table {@code [timestep, p, q, lo, hi, a, b, d, c]} ({@link #ROW}
 * floats per step), the seed from {@code run}; the noise of step k is stream k + 1 (the prior: stream 0), and a
 * one-item task advances the counter. So the loop runs with no host transfer at all, and one compiled plan serves any
 * seed and any DDIM settings.
 */
public final class DiffusionTornado {
    /** Floats per step in a sampler table: timestep, p, q, lo, hi, a, b, d, c. */
    public static final int ROW = 9;
    static final int WG = 256;

    private DiffusionTornado() {}

    public static void stepKernel(FloatArray v, int out, int x, int m, int m2, float a, float b, float b2, float c,
                                  int hasM2, int n, long seed, long stream) {
        for (@Parallel int blk = 0; blk < (n + 3) / 4; blk++) {
            int[] w = new int[4];
            if (c != 0f) PhiloxTornado.block(seed, stream, blk, w);
            for (int lane = 0; lane < 4; lane++) {
                int i = blk * 4 + lane;
                if (i < n) {
                    float r = a * v.get(x + i) + b * v.get(m + i);
                    if (hasM2 != 0) r += b2 * v.get(m2 + i);
                    if (c != 0f) r += c * PhiloxTornado.normal(w, lane);
                    v.set(out + i, r);
                }
            }
        }
    }

    public static void stepClipX0Kernel(FloatArray v, int out, int x, int m, float p, float q, float lo, float hi,
                                        float a, float b, float d, float c, int n, long seed, long stream) {
        for (@Parallel int blk = 0; blk < (n + 3) / 4; blk++) {
            int[] w = new int[4];
            if (c != 0f) PhiloxTornado.block(seed, stream, blk, w);
            clipX0Block(v, out, x, m, p, q, lo, hi, a, b, d, c, w, blk, n);
        }
    }

    /** The four elements of Philox block {@code blk} of step_clip_x0, with the block's words in {@code w}. */
    static void clipX0Block(FloatArray v, int out, int x, int m, float p, float q, float lo, float hi, float a, float b,
                            float d, float c, int[] w, int blk, int n) {
        for (int lane = 0; lane < 4; lane++) {
            int i = blk * 4 + lane;
            if (i < n) {
                float xi = v.get(x + i), mi = v.get(m + i);
                float x0 = Math.min(Math.max(p * xi + q * mi, lo), hi);
                float r = a * xi + b * x0 + d * mi;
                if (c != 0f) r += c * PhiloxTornado.normal(w, lane);
                v.set(out + i, r);
            }
        }
    }

    public static void stepClipX0Table(FloatArray v, int out, int x, int m, FloatArray table, IntArray counter, IntArray run, int n) {
        for (@Parallel int blk = 0; blk < (n + 3) / 4; blk++) {
            int k = counter.get(0), row = k * ROW;
            float c = table.get(row + 8);
            int[] w = new int[4];
            if (c != 0f) PhiloxTornado.block(blk, 0, k + 1, 0, run.get(0), run.get(1), w);
            clipX0Block(v, out, x, m, table.get(row + 1), table.get(row + 2), table.get(row + 3), table.get(row + 4),
                    table.get(row + 5), table.get(row + 6), table.get(row + 7), c, w, blk, n);
        }
    }

    /** The prior of a run: x = N(0, 1) from stream 0 under the run's seed (run[0] = seed low word, run[1] = high). */
    public static void priorKernel(FloatArray v, int x, IntArray run, int n) {
        for (@Parallel int blk = 0; blk < (n + 3) / 4; blk++) {
            int[] w = new int[4];
            PhiloxTornado.block(blk, 0, 0, 0, run.get(0), run.get(1), w);
            for (int lane = 0; lane < 4; lane++) {
                int i = blk * 4 + lane;
                if (i < n) v.set(x + i, PhiloxTornado.normal(w, lane));
            }
        }
    }

    /** The network's timesteps (nb) = column 0 of table row counter[0]. */
    public static void timestepKernel(FloatArray v, int out, FloatArray table, IntArray counter, int nb) {
        for (@Parallel int b = 0; b < nb; b++) v.set(out + b, table.get(counter.get(0) * ROW));
    }

    /** counter[0] = value (a single work-item). */
    public static void setCounterKernel(IntArray counter, int value, int one) {
        for (@Parallel int i = 0; i < one; i++) counter.set(0, value);
    }

    /** counter[0] += 1 (a single work-item). */
    public static void advanceKernel(IntArray counter, int one) {
        for (@Parallel int i = 0; i < one; i++) counter.set(0, counter.get(0) + 1);
    }

    /** drawn = 0: eps read at epsIn; drawn = 1: eps drawn, and written to epsOut when writeEps = 1. */
    public static void qSampleKernel(FloatArray v, int out, int epsOut, int x0, int epsIn, int a, int s, int perSample,
                                     int n, long seed, long stream, int drawn, int writeEps) {
        for (@Parallel int blk = 0; blk < (n + 3) / 4; blk++) {
            int[] w = new int[4];
            if (drawn != 0) PhiloxTornado.block(seed, stream, blk, w);
            for (int lane = 0; lane < 4; lane++) {
                int i = blk * 4 + lane;
                if (i < n) {
                    int b = i / perSample;
                    float e;
                    if (drawn != 0) {
                        e = PhiloxTornado.normal(w, lane);
                        if (writeEps != 0) v.set(epsOut + i, e);
                    } else {
                        e = v.get(epsIn + i);
                    }
                    v.set(out + i, v.get(a + b) * v.get(x0 + i) + v.get(s + b) * e);
                }
            }
        }
    }

    /** x' = a x + b m + b2 m2 + c z ({@code m2} &lt; 0: none). */
    public static void step(Tasks t, FloatArray v, int out, int x, int m, int m2, float a, float b, float b2, float c,
                            int n, long seed, long stream) {
        String id = t.name("sampler_step");
        t.graph().task(id, DiffusionTornado::stepKernel, v, out, x, m, Math.max(m2, 0), a, b, b2, c, m2 >= 0 ? 1 : 0, n, seed, stream);
        t.grid(id, Tasks.loop1d((n + 3) / 4, WG));
    }

    /** x0 = clamp(p x + q m, lo, hi); x' = a x + b x0 + d m + c z; f = {p, q, lo, hi, a, b, d, c}. */
    public static void stepClipX0(Tasks t, FloatArray v, int out, int x, int m, float[] f, int n, long seed, long stream) {
        String id = t.name("sampler_step_clip_x0");
        t.graph().task(id, DiffusionTornado::stepClipX0Kernel, v, out, x, m, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], n, seed, stream);
        t.grid(id, Tasks.loop1d((n + 3) / 4, WG));
    }

    /**
     * {@link #stepClipX0} with the scalars of step k = counter[0] read from row k of {@code table}, noise from stream k + 1
     * under the run's seed ({@code run} = [seed low word, seed high word]; see the class comment).
     */
    public static void stepClipX0Table(Tasks t, FloatArray v, int out, int x, int m, FloatArray table, IntArray counter,
                                       IntArray run, int n) {
        String id = t.name("sampler_step_table");
        t.graph().task(id, DiffusionTornado::stepClipX0Table, v, out, x, m, table, counter, run, n);
        t.grid(id, Tasks.loop1d((n + 3) / 4, WG));
    }

    /** The sampler loop's bookkeeping tasks: the prior of a run, the timesteps of step counter[0], counter updates. */
    public static void prior(Tasks t, FloatArray v, int x, IntArray run, int n) {
        String id = t.name("prior");
        t.graph().task(id, DiffusionTornado::priorKernel, v, x, run, n);
        t.grid(id, Tasks.loop1d((n + 3) / 4, WG));
    }

    public static void timesteps(Tasks t, FloatArray v, int out, FloatArray table, IntArray counter, int nb) {
        String id = t.name("timesteps");
        t.graph().task(id, DiffusionTornado::timestepKernel, v, out, table, counter, nb);
        t.grid(id, Tasks.loop1d(nb, WG));
    }

    public static void resetCounter(Tasks t, IntArray counter) {
        String id = t.name("reset");
        t.graph().task(id, DiffusionTornado::setCounterKernel, counter, 0, 1);
        t.grid(id, Tasks.loop1d(1, 1));
    }

    public static void advance(Tasks t, IntArray counter) {
        String id = t.name("advance");
        t.graph().task(id, DiffusionTornado::advanceKernel, counter, 1);
        t.grid(id, Tasks.loop1d(1, 1));
    }

    /** x_t = a[b] x0 + s[b] eps; {@code epsIn} &lt; 0 draws eps (and writes it to {@code epsOut} unless that is &lt; 0). */
    public static void qSample(Tasks t, FloatArray v, int out, int epsOut, int x0, int epsIn, int a, int s, int perSample,
                               int n, long seed, long stream) {
        String id = t.name("q_sample");
        int drawn = epsIn < 0 ? 1 : 0, write = drawn == 1 && epsOut >= 0 ? 1 : 0;
        t.graph().task(id, DiffusionTornado::qSampleKernel, v, out, Math.max(epsOut, 0), x0, Math.max(epsIn, 0), a, s, perSample,
                n, seed, stream, drawn, write);
        t.grid(id, Tasks.loop1d((n + 3) / 4, WG));
    }
}
