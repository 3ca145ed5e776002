package dev.diffuse.pipeline;

/**
 * A snapshot of a pipeline's counters.
 * <pre>{@code
 * PipelineStats s = pipeline.stats();
 * System.out.printf("%d queued, %.1f images per batch%n", s.queuedRequests(), s.meanBatchRows());
 * }</pre>
 *
 * @param queuedRequests requests waiting or running
 * @param completed      requests that finished
 * @param failed         requests that failed (after they were queued)
 * @param cancelled      requests cancelled
 * @param images         images produced
 * @param batches        batches run
 * @param batchedRequests sum over batches of the requests each held (a measure of coalescing)
 */
public record PipelineStats(int queuedRequests, long completed, long failed, long cancelled, long images, long batches, long batchedRequests) {
    /**
     * Mean images per batch.
     * <pre>{@code
     * double rows = pipeline.stats().meanBatchRows();
     * }</pre>
     */
    public double meanBatchRows() { return batches == 0 ? 0 : (double) images / batches; }
}
