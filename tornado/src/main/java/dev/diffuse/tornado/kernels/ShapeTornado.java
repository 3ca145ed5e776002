package dev.diffuse.tornado.kernels;

import dev.diffuse.tornado.Tasks;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The U-Net's shape ops for TornadoVM, as {@code shape.cl}:
 * <pre>
 *   concat_channels      out (B, Ca+Cb, H, W) = cat([a (B, Ca, H, W), b (B, Cb, H, W)], dim=1)
 *   upsample_nearest2x   y (B, C, 2H, 2W), y[2h+i, 2w+j] = x[h, w]
 * </pre>
 * Concat: one work-item per output element (per batch item the output block is a's block followed by b's, so every
 * item is a pure copy). Upsample: one work-item per input element writing its 2 x 2 block.
 */
public final class ShapeTornado {
    static final int WG = 256;

    private ShapeTornado() {}

    /** na = Ca HW, nb = Cb HW (per batch item); n = B (na + nb). */
    public static void concatKernel(FloatArray a, int out, int x, int y, int na, int nb, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            int b = i / (na + nb), r = i - b * (na + nb);
            a.set(out + i, r < na ? a.get(x + b * na + r) : a.get(y + b * nb + r - na));
        }
    }

    /** n = B C H W input elements. */
    public static void upsampleKernel(FloatArray a, int y, int x, int h, int w, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            int col = i % w, t = i / w, row = t % h, bc = t / h;
            float v = a.get(x + i);
            int r0 = y + (bc * 2 * h + 2 * row) * (2 * w) + 2 * col;
            a.set(r0, v);
            a.set(r0 + 1, v);
            a.set(r0 + 2 * w, v);
            a.set(r0 + 2 * w + 1, v);
        }
    }

    public static void concatChannels(Tasks t, FloatArray a, int out, int x, int y, int nb, int ca, int cb, int hw) {
        String id = t.name("concat");
        int n = nb * (ca + cb) * hw;
        t.graph().task(id, ShapeTornado::concatKernel, a, out, x, y, ca * hw, cb * hw, n);
        t.grid(id, Tasks.loop1d(n, WG));
    }

    public static void upsampleNearest2x(Tasks t, FloatArray a, int y, int x, int nb, int c, int h, int w) {
        String id = t.name("upsample2x");
        int n = nb * c * h * w;
        t.graph().task(id, ShapeTornado::upsampleKernel, a, y, x, h, w, n);
        t.grid(id, Tasks.loop1d(n, WG));
    }
}
