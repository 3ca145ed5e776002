package dev.diffuse.pipeline;

/**
 * Hooks for metrics (a server's Prometheus counters and histograms). Called on the pipeline's worker thread, except
 * {@link #onRequestDone} for requests refused or cancelled before they ran, which is called on the thread that
 * submitted or cancelled them; implementations must be thread-safe and quick.
 * <pre>{@code
 * PipelineOptions o = PipelineOptions.builder().observer(new PipelineObserver() {
 *     public void onBatch(int rows, int requests, int evaluations, long nanos) { batchRows.record(rows); }
 * }).build();
 * }</pre>
 */
public interface PipelineObserver {
    /** How a request ended. */
    enum Outcome { COMPLETED, FAILED, CANCELLED }

    /**
     * A batch ran: {@code rows} images from {@code requests} requests, {@code evaluations} network evaluations, in
     * {@code nanos}.
     * <pre>{@code
     * public void onBatch(int rows, int requests, int evaluations, long nanos) { imagesPerSecond.add(rows * 1e9 / nanos); }
     * }</pre>
     */
    default void onBatch(int rows, int requests, int evaluations, long nanos) {}

    /**
     * A request ended: its outcome, nanoseconds it waited before its first batch (-1 if it never ran), and from
     * submission to the end.
     * <pre>{@code
     * public void onRequestDone(SampleRequest r, Outcome o, long queuedNanos, long totalNanos) { latency.record(totalNanos); }
     * }</pre>
     */
    default void onRequestDone(SampleRequest request, Outcome outcome, long queuedNanos, long totalNanos) {}
}
