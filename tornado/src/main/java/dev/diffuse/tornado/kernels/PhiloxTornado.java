package dev.diffuse.tornado.kernels;

import uk.ac.manchester.tornado.api.math.TornadoMath;

/**
 * Philox4x32-10 written for TornadoVM kernels: the same bits as {@link dev.diffuse.runtime.Philox} and
 * {@code philox.cl} (key = (seed.lo, seed.hi), counter = (block.lo, block.hi, stream.lo, stream.hi); element i of a
 * stream is lane i&amp;3 of block i&gt;&gt;2). Java has no unsigned 32x32-&gt;64 multiply, so the high and low
 * halves come from a 64-bit product of zero-extended words; TornadoVM turns it into 64-bit OpenCL arithmetic.
 *
 * <p>Normals use Box-Muller on lane pairs (0,1) and (2,3) in float, as {@code philox.cl} (so the TornadoVM and
 * hand-written kernels do the same work): devices agree with the Java reference, which rounds double log, sqrt and
 * cos/sin once, to a few float ulps. The helpers are static and small so that Graal inlines them into every kernel.
 */
public final class PhiloxTornado {
    static final float TWO_PI = 6.283185307179586f;

    private PhiloxTornado() {}

    /**
     * The 10 rounds on counter (c0..c3) under key (k0, k1) into {@code w[0..3]}: {@link dev.diffuse.runtime.Philox#block}
     * itself, which TornadoVM compiles as it stands (inlined into each kernel, {@code w} a private array).
     */
    public static void block(int c0, int c1, int c2, int c3, int k0, int k1, int[] w) {
        dev.diffuse.runtime.Philox.block(c0, c1, c2, c3, k0, k1, w);
    }

    /** Block {@code blockIndex} of stream {@code stream} under {@code seed} into {@code w[0..3]}. */
    public static void block(long seed, long stream, long blockIndex, int[] w) {
        block((int) blockIndex, (int) (blockIndex >>> 32), (int) stream, (int) (stream >>> 32), (int) seed, (int) (seed >>> 32), w);
    }

    /**
     * 24-bit uniform in (0, 1): {@code (bits >>> 8) 2^-24 + 2^-25}, exact in float. Written as a masked signed shift:
     * TornadoVM 5.2.1's OpenCL backend emits Java's {@code >>>} as C's {@code >>} on the operand's type
     * ({@code OCLArithmeticTool.emitUShr}), which is an arithmetic shift on {@code int}, so {@code bits >>> 8} came
     * out negative for half of the words (and their normals NaN).
     */
    public static float uniform(int bits) {
        return (float) ((bits >> 8) & 0xFFFFFF) * 0x1p-24f + 0x1p-25f;
    }

    /** Box-Muller radius {@code sqrt(-2 ln u)} of a uniform word. */
    public static float radius(int bits) {
        return TornadoMath.sqrt(-2f * TornadoMath.log(uniform(bits)));
    }

    /** Box-Muller angle {@code 2 pi u}. */
    public static float angle(int bits) {
        return TWO_PI * uniform(bits);
    }

    /** The normal of lane {@code lane} (0..3) of a block's words. */
    public static float normal(int[] w, int lane) {
        int pair = lane & 2;
        float r = radius(w[pair]), theta = angle(w[pair + 1]);
        return (lane & 1) == 0 ? r * TornadoMath.cos(theta) : r * TornadoMath.sin(theta);
    }
}
