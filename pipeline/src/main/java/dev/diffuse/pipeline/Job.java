package dev.diffuse.pipeline;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * One request in the pipeline: its plan, where its images go (an array it collects, or a bounded hand-off a streaming
 * caller drains), its future and its counters. {@link #next} is handed out under the queue's lock; the other
 * counters are the worker's.
 */
final class Job {
    /** Chunks a streaming request may have finished but not yet consumed; the queue skips it while the hand-off is full. */
    static final int STREAM_BACKLOG = 2;

    /** A finished run of a request's images, for a streaming caller. */
    record Chunk(int first, Images images) {}

    final Plan plan;
    final SampleListener listener;
    final int[] sampleShape;
    final int per;
    final boolean imageModel;
    final float[] images;                  // collect mode, else null
    final BlockingQueue<Chunk> handoff;    // stream mode, else null
    final Future future = new Future();
    final long submittedNanos = System.nanoTime();
    final long heldBytes;
    volatile long startedNanos = -1;
    int next, done, nonFinite, batches;
    private final AtomicBoolean ended = new AtomicBoolean();
    private final Consumer<Job> onCancel;
    private final Ending ending;

    /** Called once when the job ends, however it ends. */
    interface Ending { void ended(Job job, PipelineObserver.Outcome outcome); }

    Job(Plan plan, SampleListener listener, int[] sampleShape, boolean stream, Consumer<Job> onCancel, Ending ending) {
        this.plan = plan;
        this.listener = listener;
        this.sampleShape = sampleShape.clone();
        int p = 1;
        for (int s : sampleShape) p *= s;
        this.per = p;
        this.imageModel = sampleShape.length == 3;
        this.images = stream ? null : new float[Math.multiplyExact(plan.n(), p)];
        this.heldBytes = stream ? 0 : 4L * plan.n() * p;
        this.handoff = stream ? new ArrayBlockingQueue<>(STREAM_BACKLOG) : null;
        this.onCancel = onCancel;
        this.ending = ending;
    }

    int remaining() { return plan.n() - next; }

    /** May the queue give this job rows now: not finished, rows left, and room in a streaming caller's hand-off. */
    boolean ready() {
        return !future.isDone() && next < plan.n() && (handoff == null || handoff.remainingCapacity() > 0);
    }

    /**
     * Rows {@code first .. first + count} are done: their values are {@code out[offset * per ..]} (clamped to [-1, 1]
     * for image models, NaN kept). Delivers them and completes the job after its last row.
     */
    void accept(int first, float[] out, int offset, int count) {
        if (future.isDone()) return;
        float[] chunk = Arrays.copyOfRange(out, offset * per, (offset + count) * per);
        if (imageModel) for (int i = 0; i < chunk.length; i++) chunk[i] = Math.max(-1f, Math.min(1f, chunk[i]));
        Images im = new Images(chunk, count, sampleShape);
        nonFinite += im.nonFiniteCount();
        done += count;
        batches++;
        if (handoff != null) {
            handoff.add(new Chunk(first, im)); // the queue only gives rows to a job with room in its hand-off
        } else {
            System.arraycopy(chunk, 0, images, first * per, chunk.length);
            try {
                listener.onImages(first, im);
            } catch (RuntimeException e) {
                fail(e);
                return;
            }
        }
        if (done == plan.n()) complete();
    }

    void started(long now) {
        if (startedNanos < 0) startedNanos = now;
    }

    private void complete() {
        long now = System.nanoTime();
        SampleResult r = new SampleResult(plan.request(), images == null ? null : new Images(images, plan.n(), sampleShape), nonFinite,
                Duration.ofNanos(Math.max(0, (startedNanos < 0 ? now : startedNanos) - submittedNanos)), Duration.ofNanos(now - submittedNanos), batches);
        // counters first, so that a caller woken by the future sees them settled
        if (!future.isDone() && end(PipelineObserver.Outcome.COMPLETED)) future.complete(r);
    }

    void fail(Throwable e) {
        if (!future.isDone() && end(PipelineObserver.Outcome.FAILED)) future.completeExceptionally(e);
    }

    /** Records the outcome once; false when the job had already ended. */
    private boolean end(PipelineObserver.Outcome outcome) {
        if (!ended.compareAndSet(false, true)) return false;
        ending.ended(this, outcome);
        return true;
    }

    /** The job's future: cancelling it stops the job between network evaluations and frees its place in the queue. */
    final class Future extends CompletableFuture<SampleResult> {
        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean cancelled = super.cancel(mayInterruptIfRunning);
            if (cancelled) {
                end(PipelineObserver.Outcome.CANCELLED);
                onCancel.accept(Job.this);
            }
            return cancelled;
        }
    }
}
