package dev.diffuse.models.data;

import java.io.IOException;

import dev.diffuse.samplers.metrics.SlicedWasserstein;

/**
 * The pixel-space sliced-W2 of generated images to a reference data set (e.g. fashion-mnist:test) beside its floor:
 * the same distance between as many real training images (the split ":train" of the reference) and the same reference
 * images, which is what a perfect model would score at this sample size. Reference rows are i * 7919 mod size, training
 * rows i * 104729 mod size (fixed, so numbers are comparable between runs), as {@code diffuse sample --reference} uses.
 */
public final class ReferenceDistance {
    private ReferenceDistance() {}

    /** {generated, floor} for the first n generated images (each of generated.length / n values). */
    public static double[] sw2(float[] generated, int n, String reference) throws IOException {
        Dataset ref = Datasets.open(reference, null);
        String trainSpec = reference.contains(":") ? reference.substring(0, reference.indexOf(':')) + ":train" : reference;
        Dataset train = Datasets.open(trainSpec, null);
        int per = generated.length / n;
        if (ref.sampleNumel() != per)
            throw new IllegalArgumentException("--reference " + reference + " has samples of " + ref.sampleNumel() + " values, the model makes " + per);
        float[] r = new float[n * per], t = new float[n * per];
        int[] ri = new int[n], ti = new int[n];
        for (int i = 0; i < n; i++) {
            ri[i] = (int) ((i * 7919L) % ref.size());
            ti[i] = (int) ((i * 104729L) % train.size());
        }
        ref.fill(ri, r, null);
        train.fill(ti, t, null);
        return new double[]{SlicedWasserstein.sw2(generated, r, per), SlicedWasserstein.sw2(t, r, per)};
    }
}
