package dev.diffuse.models.data;

import dev.diffuse.samplers.gmm.GaussianMixture;
import dev.diffuse.samplers.gmm.MixturePresets;

/**
 * A fixed set of exact samples from a Gaussian-mixture preset ({@link MixturePresets}: ring8, aniso2d, gmm16d...):
 * {@code n} rows of {@link GaussianMixture#sample(int, long)} under {@code seed}, labels = the component's label
 * (component index in every preset). Samples are (d) vectors, not scaled: the presets are already O(1)..O(4).
 */
public final class Synthetic2d implements Dataset {
    public static final int DEFAULT_SIZE = 50_000;
    public static final long DEFAULT_SEED = 1234;

    private final String preset;
    private final GaussianMixture mixture;
    private final float[] x;
    private final int[] labels;
    private final int n, d, numClasses;

    public Synthetic2d(String preset, int n, long seed) {
        if (n < 1) throw new IllegalArgumentException("synthetic dataset '" + preset + "': size must be >= 1, got " + n);
        this.preset = preset;
        this.mixture = MixturePresets.byName(preset);
        this.n = n;
        this.d = mixture.dim();
        // points, component draws and labels, checked before allocating (ring8:2000000000 is refused, not an OutOfMemoryError)
        dev.diffuse.runtime.MemoryBudget.requireHostArray(String.format(java.util.Locale.ROOT, "data set %s:%d (%,d points of %d values)",
                preset, n, n, d), (long) n * (d + 2), 4, "ask for fewer points after the ':'");
        this.x = mixture.sample(n, seed);
        int[] comp = mixture.sampleComponents(n, seed, 0);
        this.labels = new int[n];
        int max = 0;
        for (int i = 0; i < n; i++) {
            labels[i] = mixture.label(comp[i]);
            max = Math.max(max, labels[i]);
        }
        for (int c = 0; c < mixture.components(); c++) max = Math.max(max, mixture.label(c));
        this.numClasses = max + 1;
    }

    public static Synthetic2d of(String preset) { return new Synthetic2d(preset, DEFAULT_SIZE, DEFAULT_SEED); }

    public GaussianMixture mixture() { return mixture; }

    @Override public String description() { return preset + " (" + n + " exact samples, d=" + d + ")"; }
    @Override public int size() { return n; }
    @Override public int[] sampleShape() { return new int[]{d}; }
    @Override public int numClasses() { return numClasses; }

    @Override
    public void fill(int[] indices, float[] batch, float[] labelsOut) {
        checkFill(indices, batch, labelsOut);
        for (int i = 0; i < indices.length; i++) {
            System.arraycopy(x, indices[i] * d, batch, i * d, d);
            if (labelsOut != null) labelsOut[i] = labels[indices[i]];
        }
    }
}
