package dev.diffuse.tornado.kernels;

import dev.diffuse.tornado.Tasks;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The U-Net's conditioning inputs for TornadoVM, as {@code embedding.cl} and {@code lookup.cl}:
 * <pre>
 *   timestep_embedding  half = dim/2; e_k = f32(f32(-ln(max_period)) k) / f32(half - shift); freq_k = f32(exp(e_k))
 *                       arg = t_b freq_k; out[b] = [sin(arg_0..half-1), cos(arg_0..half-1)] (halves swapped when flip)
 *   lookup_add_rows     out[b, j] += table[label[b], j]    (the class embedding; labels hold integer ids as floats)
 * </pre>
 * The embedding follows the Java reference's float32 steps, with exp, sin and cos in double rounded once, and the
 * division too: OpenCL C allows single-precision division 2.5 ulp of error, and at t = 999 one ulp of freq_k moves
 * sin(t freq_k) by 3e-5 (measured before the fix); the double quotient rounded to float is the correctly rounded one.
 * One work-item per output element.
 */
public final class EmbeddingTornado {
    static final int WG = 64;

    private EmbeddingTornado() {}

    public static void sinusoidalKernel(FloatArray a, int out, int steps, int dim, int n, float negLog, float denom, int flip) {
        for (@Parallel int i = 0; i < n; i++) {
            int b = i / dim, j = i - b * dim, half = dim / 2;
            float r = 0f;
            if (j < 2 * half) {
                int second = j >= half ? 1 : 0, k = j - second * half;
                float e = (float) ((double) (negLog * k) / denom);  // OpenCL's float '/' may be 2.5 ulp off
                float freq = (float) Math.exp(e);
                float arg = a.get(steps + b) * freq;
                boolean cos = second != flip;
                r = cos ? (float) Math.cos(arg) : (float) Math.sin(arg);
            }
            a.set(out + i, r);
        }
    }

    public static void lookupAddKernel(FloatArray a, FloatArray par, int out, int table, int labels, int d, int k, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            int b = i / d, j = i - b * d, c = (int) a.get(labels + b);
            if (c >= 0 && c < k) a.set(out + i, a.get(out + i) + par.get(table + c * d + j));
        }
    }

    /** out (nb, dim) from timesteps (nb) at {@code steps}, max_period 10000, scale 1 (UNet2DModel's Timesteps). */
    public static void sinusoidal(Tasks t, FloatArray a, int out, int steps, int nb, int dim, boolean flipSinToCos, float freqShift) {
        int half = dim / 2;
        float negLog = (float) -Math.log(10000f), denom = (float) (half - freqShift);
        String id = t.name("timestep_embedding");
        t.graph().task(id, EmbeddingTornado::sinusoidalKernel, a, out, steps, dim, nb * dim, negLog, denom, flipSinToCos ? 1 : 0);
        t.grid(id, Tasks.loop1d((long) nb * dim, WG));
    }

    /** out (nb, d) += table (k, d) [labels (nb)]; table in {@code par}, out and labels in {@code a}. */
    public static void lookupAdd(Tasks t, FloatArray a, FloatArray par, int out, int table, int labels, int nb, int d, int k) {
        String id = t.name("lookup_add_rows");
        t.graph().task(id, EmbeddingTornado::lookupAddKernel, a, par, out, table, labels, d, k, nb * d);
        t.grid(id, Tasks.loop1d((long) nb * d, WG));
    }
}
