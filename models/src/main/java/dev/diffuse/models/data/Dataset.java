package dev.diffuse.models.data;

import java.util.List;

/**
 * A finite, in-memory training set of equally shaped float samples in [-1, 1] (images as (C, H, W), vectors as
 * (D)), optionally labelled with class ids 0..numClasses-1. Batches are gathered on the host by index, so the
 * order of training data is whatever sequence of indices the trainer draws.
 */
public interface Dataset {
    /** A short description for logs and checkpoint metadata, e.g. "fashion-mnist:train (60000 x 1x28x28)". */
    String description();

    int size();

    /** Shape of one sample, e.g. {1, 28, 28} or {2}. */
    int[] sampleShape();

    /** Number of classes, 0 if the data are unlabelled. */
    int numClasses();

    /** Class names in label order (empty if unlabelled); defaults to "0", "1", .... */
    default List<String> classNames() {
        return java.util.stream.IntStream.range(0, numClasses()).mapToObj(Integer::toString).toList();
    }

    /** Floats per sample (the product of {@link #sampleShape()}). */
    default int sampleNumel() {
        int n = 1;
        for (int s : sampleShape()) n = Math.multiplyExact(n, s);
        return n;
    }

    /**
     * Copies samples {@code indices[i]} into {@code batch[i*numel .. (i+1)*numel)} and their labels (as floats; 0
     * if unlabelled) into {@code labels[i]}. {@code labels} may be null. Arrays may be longer than needed.
     */
    void fill(int[] indices, float[] batch, float[] labels);

    /** Checks an index batch against this dataset and the output arrays (shared by implementations). */
    default void checkFill(int[] indices, float[] batch, float[] labels) {
        int n = sampleNumel();
        if ((long) indices.length * n > batch.length)
            throw new IllegalArgumentException(description() + ": batch array holds " + batch.length + " floats, need "
                    + (long) indices.length * n + " for " + indices.length + " samples of " + n);
        if (labels != null && labels.length < indices.length)
            throw new IllegalArgumentException(description() + ": labels array holds " + labels.length + ", need " + indices.length);
        for (int idx : indices)
            if (idx < 0 || idx >= size())
                throw new IndexOutOfBoundsException(description() + ": index " + idx + " outside 0.." + (size() - 1));
    }
}
