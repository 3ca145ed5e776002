package dev.diffuse.models.data;

import java.util.List;

/**
 * Images held as unsigned bytes (n, C, H, W) with optional labels: 1/4 of the memory of floats; a pixel p in 0..255
 * becomes {@code p / 127.5 - 1} in [-1, 1] when a batch is filled (0 -> -1, 255 -> 1, exactly as
 * {@code ToTensor()} then {@code Normalize(0.5, 0.5)} would give up to float rounding).
 */
class ByteImages implements Dataset {
    private final String description;
    private final byte[] pixels;
    private final byte[] labels; // null if unlabelled
    private final int n, c, h, w, numClasses;
    private final List<String> classNames;

    ByteImages(String description, byte[] pixels, byte[] labels, int n, int c, int h, int w, List<String> classNames) {
        if ((long) n * c * h * w != pixels.length)
            throw new IllegalArgumentException(description + ": " + pixels.length + " pixel bytes for " + n + " images of " + c + "x" + h + "x" + w);
        this.description = description;
        this.pixels = pixels;
        this.labels = labels;
        this.n = n;
        this.c = c;
        this.h = h;
        this.w = w;
        this.classNames = List.copyOf(classNames);
        this.numClasses = labels == null ? 0 : classNames.size();
    }

    @Override public String description() { return description; }
    @Override public int size() { return n; }
    @Override public int[] sampleShape() { return new int[]{c, h, w}; }
    @Override public int numClasses() { return numClasses; }
    @Override public List<String> classNames() { return classNames; }

    /** The label of sample i (0 if unlabelled). */
    public int label(int i) { return labels == null ? 0 : labels[i] & 0xFF; }

    @Override
    public void fill(int[] indices, float[] batch, float[] labelsOut) {
        checkFill(indices, batch, labelsOut);
        int per = c * h * w;
        for (int i = 0; i < indices.length; i++) {
            int src = indices[i] * per, dst = i * per;
            for (int j = 0; j < per; j++) batch[dst + j] = (pixels[src + j] & 0xFF) / 127.5f - 1f;
            if (labelsOut != null) labelsOut[i] = label(indices[i]);
        }
    }
}
