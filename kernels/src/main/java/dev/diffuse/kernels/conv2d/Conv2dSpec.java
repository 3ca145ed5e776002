package dev.diffuse.kernels.conv2d;

/**
 * Geometry of a square-kernel 2-D convolution: kernel size, stride and the four paddings (zeros added above,
 * left, below and right of the input). Output size: {@code OH = (H + padTop + padBottom - kernel) / stride + 1},
 * likewise {@code OW} with left/right.
 *
 * @param kernel    KH = KW
 * @param stride    step in both directions
 * @param padTop    zero rows above the input
 * @param padLeft   zero columns left of the input
 * @param padBottom zero rows below the input
 * @param padRight  zero columns right of the input
 */
public record Conv2dSpec(int kernel, int stride, int padTop, int padLeft, int padBottom, int padRight) {

    public Conv2dSpec {
        if (kernel <= 0) throw new IllegalArgumentException("Conv2dSpec: kernel must be positive, got " + kernel);
        if (stride <= 0) throw new IllegalArgumentException("Conv2dSpec: stride must be positive, got " + stride);
        if (padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0)
            throw new IllegalArgumentException("Conv2dSpec: paddings must be >= 0, got top=" + padTop + " left=" + padLeft
                    + " bottom=" + padBottom + " right=" + padRight);
    }

    /** 3x3, stride 1, pad 1: resnet convs, conv_in, conv_out, the conv after nearest upsampling. Keeps H, W. */
    public static Conv2dSpec same3x3() { return new Conv2dSpec(3, 1, 1, 1, 1, 1); }

    /** 3x3, stride 2, symmetric pad 1 (diffusers Downsample2D with downsample_padding = 1): H -> ceil(H/2). */
    public static Conv2dSpec down3x3() { return new Conv2dSpec(3, 2, 1, 1, 1, 1); }

    /**
     * 3x3, stride 2 after diffusers' {@code F.pad(x, (0, 1, 0, 1))} (downsample_padding = 0): one zero row below and
     * one zero column right, no padding above/left. Output pixel (i, j) sees input rows 2i..2i+2. H -> floor(H/2).
     */
    public static Conv2dSpec down3x3Asymmetric() { return new Conv2dSpec(3, 2, 0, 0, 1, 1); }

    /** 1x1, stride 1, no padding: the resnet conv_shortcut (a per-pixel matrix multiply over channels). */
    public static Conv2dSpec pointwise() { return new Conv2dSpec(1, 1, 0, 0, 0, 0); }

    /** Output height for input height {@code h}; throws if the padded input is smaller than the kernel. */
    public int outH(int h) { return out("height", h, padTop + padBottom); }

    /** Output width for input width {@code w}; throws if the padded input is smaller than the kernel. */
    public int outW(int w) { return out("width", w, padLeft + padRight); }

    private int out(String what, int size, int pads) {
        if (size <= 0) throw new IllegalArgumentException("conv2d: input " + what + " must be positive, got " + size);
        int span = size + pads - kernel;
        if (span < 0)
            throw new IllegalArgumentException("conv2d: input " + what + " " + size + " plus padding " + pads
                    + " is smaller than the kernel " + kernel + "; use a larger input or more padding");
        return span / stride + 1;
    }
}
