package dev.diffuse.models.vae;

import dev.diffuse.models.data.Dataset;
import dev.diffuse.runtime.Philox;

/** 2x8x8 test images: a bright horizontal or vertical bar at one of 4 positions (8 kinds), plus a little noise. */
final class Stripes implements Dataset {
    private final int size;

    Stripes(int size) { this.size = size; }

    @Override public String description() { return "stripes (test, " + size + ")"; }
    @Override public int size() { return size; }
    @Override public int[] sampleShape() { return new int[]{2, 8, 8}; }
    @Override public int numClasses() { return 0; }

    @Override
    public void fill(int[] indices, float[] batch, float[] labels) {
        for (int i = 0; i < indices.length; i++) {
            int k = indices[i] % 8, pos = 1 + 2 * (k % 4);
            boolean vertical = k >= 4;
            if (labels != null) labels[i] = 0;
            for (int c = 0; c < 2; c++)
                for (int y = 0; y < 8; y++)
                    for (int x = 0; x < 8; x++) {
                        int u = vertical ? x : y;
                        boolean on = u == pos || u == pos + 1;
                        float base = on ? (c == 0 ? 0.9f : 0.5f) : -0.8f;
                        batch[i * 128 + c * 64 + y * 8 + x] = base + 0.05f * (Philox.uniform(indices[i], c, y * 8 + x) - 0.5f);
                    }
        }
    }
}
