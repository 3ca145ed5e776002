package dev.diffuse.runtime;

/**
 * Which Gaussian draw each element of a (rows, ...) tensor gets from the counter-based stream ({@link Philox}): the
 * key of a sampler's noise, the prior's and every stochastic step's (stream s).
 * <ul>
 *   <li>{@link Shared}: one key for the whole tensor. Element i gets normal i of stream s under the seed: the batch is
 *       one request, as a plain {@code sampler.sample(model, ws, seed, shape)} call is.</li>
 *   <li>{@link RowNoise}: a key per row. Element j of row r gets normal {@code first_r + j} of stream s under
 *       {@code seed_r}. Rows of different requests coalesced into one batch keep the noise they would get alone: image k
 *       of a request with seed S is the row keyed (S, k * D), D the values per image, which is exactly what
 *       {@code Shared(S)} gives row k of that request run by itself.</li>
 * </ul>
 * Kernels take a Noise where they used to take a seed; the same call with {@code Noise.seed(s)} gives the same bits as
 * the seed-taking form.
 */
public sealed interface Noise permits Noise.Shared, RowNoise {
    /** One key for the whole tensor (element i gets normal i of the stream under {@code seed}). */
    static Noise seed(long seed) { return new Shared(seed); }

    /**
     * Writes the normals of elements {@code from .. from + len - 1} of a tensor of {@code numel} elements, stream
     * {@code stream}, into {@code z[0 .. len)}: the Java device's draw, the definition the OpenCL kernels match.
     */
    void normals(long stream, long numel, long from, float[] z, int len);

    /** Checks that this key fits a tensor of {@code numel} elements; the message names {@code op}. */
    default void check(String op, long numel) {}

    /** A single seed for every element: element i gets normal i of the stream. */
    record Shared(long seed) implements Noise {
        @Override
        public void normals(long stream, long numel, long from, float[] z, int len) {
            Philox.normals(seed, stream, from, z, 0, len);
        }
    }
}
