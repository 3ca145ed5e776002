package dev.diffuse.models.data;

import java.util.List;

/**
 * Images (C, H, W) padded to (C, S, S), centred, with a constant (e.g. -1, black in [-1, 1]): Fashion-MNIST's 28x28
 * become 32x32 so that a VAE with two halvings has a whole 8x8 latent. {@link #crop} undoes it.
 */
public final class PaddedImages implements Dataset {
    private final Dataset inner;
    private final int c, h, w, size, top, left;
    private final float value;

    public PaddedImages(Dataset inner, int size, float value) {
        int[] s = inner.sampleShape();
        if (s.length != 3) throw new IllegalArgumentException("padding needs images (C, H, W), " + inner.description() + " has samples of shape "
                + java.util.Arrays.toString(s));
        if (s[1] > size || s[2] > size)
            throw new IllegalArgumentException(inner.description() + ": images of " + s[1] + "x" + s[2] + " do not fit in " + size + "x" + size);
        this.inner = inner;
        this.c = s[0];
        this.h = s[1];
        this.w = s[2];
        this.size = size;
        this.top = (size - h) / 2;
        this.left = (size - w) / 2;
        this.value = value;
    }

    /** {@code data} padded to {@code size}, or itself when its images already have that size. */
    public static Dataset to(Dataset data, int size) {
        int[] s = data.sampleShape();
        return s.length == 3 && s[1] == size && s[2] == size ? data : new PaddedImages(data, size, -1f);
    }

    @Override public String description() { return inner.description() + " padded to " + size + "x" + size; }
    @Override public int size() { return inner.size(); }
    @Override public int[] sampleShape() { return new int[]{c, size, size}; }
    @Override public int numClasses() { return inner.numClasses(); }
    @Override public List<String> classNames() { return inner.classNames(); }

    @Override
    public void fill(int[] indices, float[] batch, float[] labels) {
        checkFill(indices, batch, labels);
        float[] raw = new float[indices.length * c * h * w];
        inner.fill(indices, raw, labels);
        int per = c * size * size;
        java.util.Arrays.fill(batch, 0, indices.length * per, value);
        for (int i = 0; i < indices.length; i++)
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < h; y++)
                    System.arraycopy(raw, ((i * c + ch) * h + y) * w, batch, i * per + (ch * size + top + y) * size + left, w);
    }

    /** The centred (h, w) window of n images (C, S, S): what padding to S added, removed. */
    public static float[] crop(float[] images, int n, int c, int s, int h, int w) {
        int top = (s - h) / 2, left = (s - w) / 2;
        float[] out = new float[n * c * h * w];
        for (int i = 0; i < n * c; i++)
            for (int y = 0; y < h; y++)
                System.arraycopy(images, (i * s + top + y) * s + left, out, (i * h + y) * w, w);
        return out;
    }
}
