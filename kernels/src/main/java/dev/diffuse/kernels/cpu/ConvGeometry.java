package dev.diffuse.kernels.cpu;

/**
 * How a convolution becomes an implicit GEMM over shifted input planes (no im2col matrix).
 *
 * <p>Output pixel (oh, ow) of tap (kh, kw) reads input row {@code s*oh + kh - pt}, column {@code s*ow + kw - pl}.
 * Write {@code kh - pt = s*shift + phase} (0 <= phase < s). For each input channel, each kw and each phase a
 * <em>plane</em> holds {@code P[r][ow] = x[s*r + phase][s*ow + kw - pl]} (0 outside the input): the horizontal tap and
 * stride are applied once when the plane is filled, so tap (kh, kw) of output pixel (oh, ow) is plane element
 * {@code (oh + shift) * OW + ow} -- linear in the output index {@code oh * OW + ow}. Row k = (ci, kh, kw) of the GEMM's
 * B operand is therefore a plane read at the offset {@link #offsets}, and the whole convolution is
 * {@code y[co][j] = sum_k W[co][k] * planes[boff[k] + j]}.
 *
 * <p>A group of G images is laid out one after another in each plane, {@link #rowsPerImage} = T plane rows apart;
 * output column {@code j = (t*T + oh) * OW + ow} is pixel (oh, ow) of image t, and columns with oh >= OH are padding
 * that the epilogue skips. A plane stores rows {@code sMin .. OH-1+sMax} of each image; the zero rows below one image
 * and above the next are shared when both are zero (T = OH + 1 for a 3x3 stride-1 convolution, T = OH for 1x1).
 */
record ConvGeometry(int batch, int channels, int h, int w, int oh, int ow, int k, int stride, int padTop, int padLeft,
                    int sMin, int sMax, int rowsPerImage, int group, int planeLen) {

    /** Geometry for input (batch, channels, h, w), output (oh, ow), kernel k, stride, top/left padding, G images. */
    static ConvGeometry of(int batch, int channels, int h, int w, int oh, int ow, int k, int stride, int padTop,
                           int padLeft, int group) {
        int sMin = Integer.MAX_VALUE, sMax = Integer.MIN_VALUE;
        for (int kh = 0; kh < k; kh++) {
            int sh = Math.floorDiv(kh - padTop, stride);
            sMin = Math.min(sMin, sh);
            sMax = Math.max(sMax, sh);
        }
        int stored = oh + sMax - sMin;               // plane rows one image needs
        // rows >= OH of one image are input rows >= s*OH and rows < 0 of the next are input rows < 0: when both are
        // outside the input they are zero and can be the same rows
        int shared = stride * oh >= h ? Math.min(Math.max(0, sMax), Math.max(0, -sMin)) : 0;
        int t = stored - shared;
        int g = Math.max(1, Math.min(group, batch));
        int cols = g * t * ow;
        // room for every row of the group plus the reads of the last, partly padded, tile of columns
        int len = Math.max((g - 1) * t * ow + stored * ow, ceil(cols, Tiles.NR) + (sMax - sMin) * ow);
        return new ConvGeometry(batch, channels, h, w, oh, ow, k, stride, padTop, padLeft, sMin, sMax, t, g, len);
    }

    int shift(int kh) { return Math.floorDiv(kh - padTop, stride); }

    int phase(int kh) { return Math.floorMod(kh - padTop, stride); }

    /** Plane rows stored per image: input rows sMin .. OH-1+sMax. */
    int storedRows() { return oh + sMax - sMin; }

    /** Planes per input channel: one per (kw, phase). */
    int planesPerChannel() { return k * stride; }

    /** Floats of the planes of all channels for one group. */
    long planesFloats() { return (long) channels * planesPerChannel() * planeLen; }

    /** Output columns of a full group (padding rows included). */
    int columns() { return group * rowsPerImage * ow; }

    /** Number of groups covering the batch. */
    int groups() { return (batch + group - 1) / group; }

    /** First element of plane (ci, kw, phase). */
    int planeBase(int ci, int kw, int phase) { return ((ci * k + kw) * stride + phase) * planeLen; }

    /**
     * {@code boff[(ci*K + kh)*K + kw] = planeBase(ci, kw, phase(kh)) + (shift(kh) - sMin) * OW}: the offset of GEMM
     * row k in the planes, in the weight layout's order (ci, kh, kw).
     */
    void offsets(int[] boff) {
        for (int ci = 0; ci < channels; ci++)
            for (int kh = 0; kh < k; kh++)
                for (int kw = 0; kw < k; kw++)
                    boff[(ci * k + kh) * k + kw] = planeBase(ci, kw, phase(kh)) + (shift(kh) - sMin) * ow;
    }

    static int ceil(int a, int b) { return (a + b - 1) / b * b; }
}
