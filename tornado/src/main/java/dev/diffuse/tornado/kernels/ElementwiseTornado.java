package dev.diffuse.tornado.kernels;

import dev.diffuse.tornado.Tasks;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Elementwise ops of the U-Net forward for TornadoVM ({@code @Parallel} loops: one work-item per element, no
 * work-group cooperation needed), as {@code activation.cl}, {@code elementwise.cl} and {@code add_bcast} of
 * {@code shape.cl}:
 * <pre>
 *   silu          y = x / (1 + exp(-x))               (in float, as activation.cl)
 *   add           z = x + y
 *   affine        y = a x + c                         (center_input_sample: 2x - 1; 1/s output scales)
 *   add_bcast     y[b, c, hw] = x[b, c, hw] + e[b, c]
 *   copy          y = x                               (within one array, or between two: a pipeline's inputs and outputs)
 * </pre>
 * Tensors are element offsets into one array; outputs may alias inputs.
 */
public final class ElementwiseTornado {
    static final int WG = 256;

    private ElementwiseTornado() {}

    public static void siluKernel(FloatArray a, int y, int x, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float v = a.get(x + i);
            a.set(y + i, v / (1f + TornadoMath.exp(-v)));
        }
    }

    /** {@link #siluKernel} written with the KernelContext API: one work-item per element, no loop (see {@link #siluIndexed}). */
    public static void siluIndexedKernel(KernelContext kc, FloatArray a, int y, int x, int n) {
        int i = kc.globalIdx;
        if (i < n) {
            float v = a.get(x + i);
            a.set(y + i, v / (1f + TornadoMath.exp(-v)));
        }
    }

    public static void addKernel(FloatArray a, int z, int x, int y, int n) {
        for (@Parallel int i = 0; i < n; i++) a.set(z + i, a.get(x + i) + a.get(y + i));
    }

    public static void affineKernel(FloatArray a, int y, int x, float s, float c, int n) {
        for (@Parallel int i = 0; i < n; i++) a.set(y + i, s * a.get(x + i) + c);
    }

    public static void addBroadcastKernel(FloatArray a, int y, int x, int e, int hw, int n) {
        for (@Parallel int i = 0; i < n; i++) a.set(y + i, a.get(x + i) + a.get(e + i / hw));
    }

    public static void copyKernel(FloatArray a, int y, int x, int n) {
        for (@Parallel int i = 0; i < n; i++) a.set(y + i, a.get(x + i));
    }

    public static void copyBetweenKernel(FloatArray dst, int y, FloatArray src, int x, int n) {
        for (@Parallel int i = 0; i < n; i++) dst.set(y + i, src.get(x + i));
    }

    public static void silu(Tasks t, FloatArray a, int y, int x, int n) {
        String id = t.name("silu");
        t.graph().task(id, ElementwiseTornado::siluKernel, a, y, x, n);
        t.grid(id, Tasks.loop1d(n, WG));
    }

    /**
     * SiLU as a KernelContext kernel, for the comparison of launch forms: TornadoVM turns a {@code @Parallel} loop into a
     * grid-stride loop in every work-item ({@code for (i = gid; i < bound; i += global_size)}, with a GridScheduler the
     * bound is read from the kernel-context buffer), which PoCL does not vectorize across work-items; the straight-line
     * KernelContext form it does (measured in docs/tornadovm.md).
     */
    public static void siluIndexed(Tasks t, FloatArray a, int y, int x, int n) {
        String id = t.name("silu_indexed");
        t.graph().task(id, ElementwiseTornado::siluIndexedKernel, new KernelContext(), a, y, x, n);
        t.grid(id, Tasks.grid1d(n, WG));
    }

    public static void add(Tasks t, FloatArray a, int z, int x, int y, int n) {
        String id = t.name("add");
        t.graph().task(id, ElementwiseTornado::addKernel, a, z, x, y, n);
        t.grid(id, Tasks.loop1d(n, WG));
    }

    public static void affine(Tasks t, FloatArray a, int y, int x, float s, float c, int n) {
        String id = t.name("affine");
        t.graph().task(id, ElementwiseTornado::affineKernel, a, y, x, s, c, n);
        t.grid(id, Tasks.loop1d(n, WG));
    }

    /** y (B, C, HW) = x + e[b, c] with e (B, C); n = B C HW. */
    public static void addBroadcast(Tasks t, FloatArray a, int y, int x, int e, int hw, int n) {
        String id = t.name("add_bcast");
        t.graph().task(id, ElementwiseTornado::addBroadcastKernel, a, y, x, e, hw, n);
        t.grid(id, Tasks.loop1d(n, WG));
    }

    public static void copy(Tasks t, FloatArray a, int y, int x, int n) {
        String id = t.name("copy");
        t.graph().task(id, ElementwiseTornado::copyKernel, a, y, x, n);
        t.grid(id, Tasks.loop1d(n, WG));
    }

    /** dst[y .. y+n) = src[x .. x+n). */
    public static void copyBetween(Tasks t, FloatArray dst, int y, FloatArray src, int x, int n) {
        String id = t.name("copy");
        t.graph().task(id, ElementwiseTornado::copyBetweenKernel, dst, y, src, x, n);
        t.grid(id, Tasks.loop1d(n, WG));
    }

    /**
     * a[0] = a[0]: gives a graph a task that uses {@code a}. TornadoVM allocates and fills a device buffer only for the
     * objects a graph's tasks use, so a graph that transfers an object (the weights, a table) only to persist it for
     * the graphs after it needs one (else: {@code NullPointerException} in {@code TornadoVMInterpreter.executeAlloc}
     * when the next graph consumes it).
     */
    public static void touch(Tasks t, FloatArray a) {
        String id = t.name("touch");
        t.graph().task(id, ElementwiseTornado::copyKernel, a, 0, 0, 1);
        t.grid(id, Tasks.loop1d(1, 1));
    }
}
