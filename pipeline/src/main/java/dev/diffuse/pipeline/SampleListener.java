package dev.diffuse.pipeline;

/**
 * Follows one request: progress after every network evaluation, and the images as each batch finishes. Progress calls
 * run on the pipeline's worker thread and must return quickly (a slow listener delays every request batched with
 * this one); {@link #onImages} runs on the worker thread for {@link DiffusionPipeline#submit}, and on the caller's
 * thread for {@link DiffusionPipeline#stream}. An exception from a listener fails its own request only.
 * <pre>{@code
 * pipeline.stream(SampleRequest.of(20_000), new SampleListener() {
 *     public void onProgress(Progress p) { System.err.printf("%.0f%%%n", 100 * p.fraction()); }
 *     public void onImages(int first, Images chunk) { writeCsvRows(first, chunk); }
 * });
 * }</pre>
 */
public interface SampleListener {
    /** A listener that ignores everything. */
    SampleListener NONE = new SampleListener() {};

    /**
     * After each network evaluation of a batch holding this request's images.
     * <pre>{@code
     * public void onProgress(Progress p) { bar.set(p.fraction()); }
     * }</pre>
     */
    default void onProgress(Progress progress) {}

    /**
     * Images {@code first .. first + chunk.count() - 1} of the request are done (chunks arrive in order).
     * <pre>{@code
     * public void onImages(int first, Images chunk) { out.write(chunk.data()); }
     * }</pre>
     */
    default void onImages(int first, Images chunk) {}
}
