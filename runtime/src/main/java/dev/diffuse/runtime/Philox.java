package dev.diffuse.runtime;

/**
 * Counter-based RNG: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), the
 * same bits in Java and in OpenCL ({@code dev/diffuse/runtime/philox.cl}).
 *
 * <p>Layout. Key = (seed low 32, seed high 32). Counter = (block low 32, block high 32, stream low 32, stream high
 * 32), where element {@code i} of a stream lives in block {@code i >> 2}, lane {@code i & 3}. A kernel that draws
 * noise for element i of step s uses stream s: no state is carried between launches, so any element can be
 * recomputed alone and every device produces the same stream.
 *
 * <p>Uniforms use the top 24 bits: {@code u = (bits >>> 8) * 2^-24 + 2^-25}, exactly representable in float, in
 * (0, 1), identical on every device. Normals use Box-Muller on lane pairs (0,1) and (2,3):
 * {@code r = sqrt(-2 ln u_a)}, {@code n_a = r cos(2 pi u_b)}, {@code n_b = r sin(2 pi u_b)}. They are computed in
 * float: devices agree to within a few ulps (libm rounding), not bit for bit. Since u_a >= 2^-25, |n| <= 5.9.
 */
public final class Philox {
    private static final int M0 = 0xD2511F53, M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9, W1 = 0xBB67AE85;
    private static final float TWO_PI = 6.283185307179586f;

    private Philox() {}

    /** The raw generator: 10 rounds on counter (c0..c3) with key (k0, k1); writes 4 words into {@code out}. */
    public static void block(int c0, int c1, int c2, int c3, int k0, int k1, int[] out) {
        for (int r = 0; r < 10; r++) {
            if (r > 0) {
                k0 += W0;
                k1 += W1;
            }
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int hi0 = (int) (p0 >>> 32), lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32), lo1 = (int) p1;
            c0 = hi1 ^ c1 ^ k0;
            c1 = lo1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = lo0;
        }
        out[0] = c0;
        out[1] = c1;
        out[2] = c2;
        out[3] = c3;
    }

    /** The four 32-bit words of block {@code blockIndex} of stream {@code stream} under {@code seed}. */
    public static void block(long seed, long stream, long blockIndex, int[] out) {
        block((int) blockIndex, (int) (blockIndex >>> 32), (int) stream, (int) (stream >>> 32), (int) seed, (int) (seed >>> 32), out);
    }

    /** Word {@code index} of the stream as an unsigned value in a long. */
    public static long uint32(long seed, long stream, long index) {
        int[] w = new int[4];
        block(seed, stream, index >>> 2, w);
        return w[(int) (index & 3)] & 0xFFFFFFFFL;
    }

    /** 24-bit uniform in (0, 1) from one word. */
    public static float uniform(int bits) {
        return (bits >>> 8) * 0x1p-24f + 0x1p-25f;
    }

    /** Uniform number {@code index} of the stream. */
    public static float uniform(long seed, long stream, long index) {
        return uniform((int) uint32(seed, stream, index));
    }

    /** Normal number {@code index} of the stream. */
    public static float normal(long seed, long stream, long index) {
        int[] w = new int[4];
        block(seed, stream, index >>> 2, w);
        int lane = (int) (index & 3);
        int pair = lane & 2;
        float r = (float) Math.sqrt(-2f * (float) Math.log(uniform(w[pair])));
        float theta = TWO_PI * uniform(w[pair + 1]);
        return (lane & 1) == 0 ? r * (float) Math.cos(theta) : r * (float) Math.sin(theta);
    }

    /** Fills {@code out[0..n)} with normals {@code first .. first+n-1} of the stream, four per block. */
    public static void normals(long seed, long stream, long first, float[] out, int from, int n) {
        int[] w = new int[4];
        long i = first;
        int k = from, end = from + n;
        while (k < end) {
            long blockIndex = i >>> 2;
            block(seed, stream, blockIndex, w);
            for (int lane = (int) (i & 3); lane < 4 && k < end; lane++, i++, k++) {
                int pair = lane & 2;
                float r = (float) Math.sqrt(-2f * (float) Math.log(uniform(w[pair])));
                float theta = TWO_PI * uniform(w[pair + 1]);
                out[k] = (lane & 1) == 0 ? r * (float) Math.cos(theta) : r * (float) Math.sin(theta);
            }
        }
    }
}
