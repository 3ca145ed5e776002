package dev.diffuse.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The pipeline's one worker thread: takes batches from the {@link BatchQueue}, runs them on the {@link Engine} and hands
 * each request its rows. A failing batch fails the requests in it and nothing else: the engine frees the batch's
 * memory in finally and the model starts every forward from a clean scratch, so the next batch runs as if nothing
 * happened. A batch stops between network evaluations once every request in it is cancelled.
 */
final class Worker implements Runnable {
    private final BatchQueue queue;
    private final Engine engine;
    private final PipelineObserver observer;
    final AtomicLong images = new AtomicLong(), batches = new AtomicLong(), batchedRequests = new AtomicLong();

    Worker(BatchQueue queue, Engine engine, PipelineObserver observer) {
        this.queue = queue;
        this.engine = engine;
        this.observer = observer;
    }

    @Override
    public void run() {
        while (true) {
            List<BatchQueue.Slice> batch;
            try {
                batch = queue.next();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (batch == null) return;
            runBatch(batch);
        }
    }

    private void runBatch(List<BatchQueue.Slice> slices) {
        long t0 = System.nanoTime();
        int rows = 0;
        for (BatchQueue.Slice s : slices) {
            s.job().started(t0);
            rows += s.count();
        }
        Plan.Key key = slices.getFirst().job().plan.key();
        float[] out;
        int[] evaluations = new int[1];
        try {
            out = engine.run(slices, key, new Control(slices, evaluations));
        } catch (Throwable e) {
            // cancelled, out of memory, a failing kernel or listener: these requests end here, the pipeline goes on
            // (errors too: the worker must outlive them, or every later request would wait forever)
            for (BatchQueue.Slice s : slices) s.job().fail(e);
            return;
        }
        long nanos = System.nanoTime() - t0;
        images.addAndGet(rows);
        batches.incrementAndGet();
        batchedRequests.addAndGet(slices.size());
        try {
            observer.onBatch(rows, slices.size(), evaluations[0], nanos);
        } catch (RuntimeException ignored) {
            // a metrics hook must not fail requests
        }
        int offset = 0;
        for (BatchQueue.Slice s : slices) {
            s.job().accept(s.first(), out, offset, s.count());
            offset += s.count();
        }
    }

    /** Cancellation between evaluations and per-request progress. */
    private static final class Control implements Engine.Control {
        private final List<BatchQueue.Slice> slices;
        private final int[] evaluations;

        Control(List<BatchQueue.Slice> slices, int[] evaluations) {
            this.slices = new ArrayList<>(slices);
            this.evaluations = evaluations;
        }

        @Override
        public void beforeEvaluation() {
            for (BatchQueue.Slice s : slices) if (!s.job().future.isDone()) return;
            throw Engine.allCancelled();
        }

        @Override
        public void afterEvaluation(int done, int total) {
            evaluations[0] = done;
            for (BatchQueue.Slice s : slices) {
                Job j = s.job();
                if (j.future.isDone()) continue;
                try {
                    j.listener.onProgress(new Progress(j.done, j.plan.n(), s.count(), done, total));
                } catch (RuntimeException e) {
                    j.fail(e);
                }
            }
        }
    }
}
