package dev.diffuse.tornado.kernels;

import dev.diffuse.tornado.Tasks;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * The counter-based stream on a TornadoVM device, as {@link dev.diffuse.runtime.Rng} on the Java and OpenCL devices:
 * element k of the fill is draw {@code k} of stream {@code stream} under {@code seed}. One work-item per Philox block
 * (four consecutive elements, tail guarded). Arrays are addressed as (array, element offset) pairs so that a whole
 * pipeline can keep its tensors in one device buffer.
 */
public final class RngTornado {
    static final int WG = 256;

    private RngTornado() {}

    /** out[o + k] = mean + std * N_k(seed, stream), k &lt; n. */
    public static void normalKernel(FloatArray a, int o, int n, long seed, long stream, float mean, float std) {
        for (@Parallel int blk = 0; blk < (n + 3) / 4; blk++) {
            int[] w = new int[4];
            PhiloxTornado.block(seed, stream, blk, w);
            for (int lane = 0; lane < 4; lane++) {
                int i = blk * 4 + lane;
                if (i < n) a.set(o + i, mean + std * PhiloxTornado.normal(w, lane));
            }
        }
    }

    /** The raw 32-bit words: out[k] = word k of the stream. */
    public static void bitsKernel(IntArray out, int n, long seed, long stream) {
        for (@Parallel int blk = 0; blk < (n + 3) / 4; blk++) {
            int[] w = new int[4];
            PhiloxTornado.block(seed, stream, blk, w);
            for (int lane = 0; lane < 4; lane++) {
                int i = blk * 4 + lane;
                if (i < n) out.set(i, w[lane]);
            }
        }
    }

    public static void fillNormal(Tasks t, FloatArray a, int o, int n, long seed, long stream, float mean, float std) {
        String id = t.name("rng_normal");
        t.graph().task(id, RngTornado::normalKernel, a, o, n, seed, stream, mean, std);
        t.grid(id, Tasks.loop1d((n + 3) / 4, WG));
    }

    public static void fillBits(Tasks t, IntArray out, int n, long seed, long stream) {
        String id = t.name("rng_bits");
        t.graph().task(id, RngTornado::bitsKernel, out, n, seed, stream);
        t.grid(id, Tasks.loop1d((n + 3) / 4, WG));
    }
}
