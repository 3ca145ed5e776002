package dev.diffuse.bench.sidebyside;

import java.util.SplittableRandom;

import dev.diffuse.models.data.Dataset;

/** A fixed set of random images in [-1, 1] for timing training steps (the time does not depend on the pixels). */
record RandomImages(int size, int c, int h, int w, float[] pixels) implements Dataset {
    RandomImages(int size, int c, int h, int w) {
        this(size, c, h, w, random(size * c * h * w));
    }

    static float[] random(int n) {
        SplittableRandom r = new SplittableRandom(1);
        float[] p = new float[n];
        for (int i = 0; i < n; i++) p[i] = (float) (2 * r.nextDouble() - 1);
        return p;
    }

    @Override public String description() { return "random images (" + size + " x " + c + "x" + h + "x" + w + ")"; }
    @Override public int[] sampleShape() { return new int[]{c, h, w}; }
    @Override public int numClasses() { return 0; }

    @Override
    public void fill(int[] indices, float[] batch, float[] labels) {
        checkFill(indices, batch, labels);
        int n = sampleNumel();
        for (int i = 0; i < indices.length; i++) {
            System.arraycopy(pixels, indices[i] * n, batch, i * n, n);
            if (labels != null) labels[i] = 0;
        }
    }
}
