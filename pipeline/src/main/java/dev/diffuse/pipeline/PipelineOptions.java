package dev.diffuse.pipeline;

import java.time.Duration;

/**
 * How a pipeline batches and what it may hold.
 * <pre>{@code
 * PipelineOptions o = PipelineOptions.builder().maxBatch(32).batchWindow(Duration.ofMillis(10)).build();
 * DiffusionPipeline p = DiffusionPipeline.load(dir, device, o);
 * }</pre>
 *
 * @param maxBatch          images per batched forward (the model is built for this batch), e.g. 64
 * @param maxMemoryBytes    the most this pipeline may hold: model + one batch + the images of requests that collect
 *                          them; null = the device's {@link dev.diffuse.runtime.MemoryBudget} limit at load
 * @param batchWindow       how long the worker waits for more compatible requests before running a batch that is not
 *                          full (requests that arrive while a batch runs join the next one without waiting), e.g. 5 ms
 * @param maxQueuedRequests requests waiting or running before {@link QueueFullException}, e.g. 1024
 * @param observer          metrics hooks
 */
public record PipelineOptions(int maxBatch, Long maxMemoryBytes, Duration batchWindow, int maxQueuedRequests, PipelineObserver observer) {
    /** The largest maxBatch accepted. */
    public static final int MAX_BATCH = 4096;

    public PipelineOptions {
        if (maxBatch < 1 || maxBatch > MAX_BATCH) throw new IllegalArgumentException("maxBatch must be in 1.." + MAX_BATCH + ", got " + maxBatch);
        if (maxMemoryBytes != null && maxMemoryBytes < 1) throw new IllegalArgumentException("maxMemoryBytes must be positive, got " + maxMemoryBytes);
        if (batchWindow == null || batchWindow.isNegative() || batchWindow.compareTo(Duration.ofSeconds(10)) > 0)
            throw new IllegalArgumentException("batchWindow must be in 0..10 s, got " + batchWindow);
        if (maxQueuedRequests < 1) throw new IllegalArgumentException("maxQueuedRequests must be >= 1, got " + maxQueuedRequests);
        if (observer == null) observer = new PipelineObserver() {};
    }

    /**
     * Batches of 64, the device's memory limit, a 5 ms batching window, 1024 queued requests.
     * <pre>{@code
     * DiffusionPipeline p = DiffusionPipeline.load(dir, device, PipelineOptions.defaults());
     * }</pre>
     */
    public static PipelineOptions defaults() { return builder().build(); }

    /**
     * A builder starting from {@link #defaults()}.
     * <pre>{@code
     * PipelineOptions o = PipelineOptions.builder().maxBatch(16).build();
     * }</pre>
     */
    public static Builder builder() { return new Builder(); }

    /** Builds {@link PipelineOptions}. */
    public static final class Builder {
        private int maxBatch = 64, maxQueued = 1024;
        private Long maxMemory;
        private Duration window = Duration.ofMillis(5);
        private PipelineObserver observer;

        private Builder() {}

        /** Images per batched forward, e.g. {@code maxBatch(64)}. */
        public Builder maxBatch(int maxBatch) { this.maxBatch = maxBatch; return this; }

        /** The pipeline's memory limit in bytes, e.g. {@code maxMemoryBytes(2L << 30)}. */
        public Builder maxMemoryBytes(long bytes) { this.maxMemory = bytes; return this; }

        /** The batching window, e.g. {@code batchWindow(Duration.ofMillis(5))}; zero runs what is there at once. */
        public Builder batchWindow(Duration window) { this.window = window; return this; }

        /** Requests waiting or running before submissions are refused, e.g. {@code maxQueuedRequests(256)}. */
        public Builder maxQueuedRequests(int n) { this.maxQueued = n; return this; }

        /** Metrics hooks, e.g. {@code observer(new PipelineObserver() { ... })}. */
        public Builder observer(PipelineObserver observer) { this.observer = observer; return this; }

        /**
         * The options; a value out of range gets a one-line IllegalArgumentException naming it.
         * <pre>{@code
         * PipelineOptions o = PipelineOptions.builder().build();
         * }</pre>
         */
        public PipelineOptions build() { return new PipelineOptions(maxBatch, maxMemory, window, maxQueued, observer); }
    }
}
