package dev.diffuse.pipeline;

/**
 * The pipeline's request queue is full ({@link PipelineOptions#maxQueuedRequests}); nothing was queued. A server
 * answers 429 with Retry-After.
 */
public final class QueueFullException extends IllegalStateException {
    public QueueFullException(String message) { super(message); }
}
