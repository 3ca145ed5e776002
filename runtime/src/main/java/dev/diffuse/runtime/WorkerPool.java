package dev.diffuse.runtime;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The Java device's threads: {@code threads - 1} persistent daemon workers plus the calling thread run the chunks of
 * one parallel loop at a time. Built for the ~100 small ops of a batch-1 U-Net forward, where the common fork-join
 * pool's task objects, splitting and wake-ups cost as much as the work:
 * <ul>
 *   <li>a loop is published as one small {@link Job} (the only allocation per call); chunks are claimed from an
 *       atomic counter, so a chunk runs exactly once and its work is fixed by its index (results never depend on
 *       which thread ran it);</li>
 *   <li>idle workers spin for {@link #SPIN_NANOS} before they park, so back-to-back ops start without an unpark;</li>
 *   <li>the caller runs chunks too and then spins until the last chunk is done: that is the barrier.</li>
 * </ul>
 * One loop runs at a time: a loop started while another is running (a nested loop inside a chunk, or a second
 * thread calling concurrently) runs all its chunks on its own thread, which gives the same results.
 */
final class WorkerPool {
    /** How long an idle worker spins for the next loop before it parks (50 microseconds). */
    static final long SPIN_NANOS = 50_000;

    /** One parallel loop: its body, size, chunk counter, completion count and first failure. */
    private static final class Job {
        final IntConsumer body;
        final int chunks;
        final AtomicInteger next = new AtomicInteger(), done = new AtomicInteger();
        volatile Throwable failure;

        Job(IntConsumer body, int chunks) {
            this.body = body;
            this.chunks = chunks;
        }

        /** Claims and runs chunks until none is left. */
        void work() {
            int i;
            while ((i = next.getAndIncrement()) < chunks) {
                try {
                    if (failure == null) body.accept(i);
                } catch (Throwable t) {
                    if (failure == null) failure = t;
                } finally {
                    done.incrementAndGet();
                }
            }
        }
    }

    private final int threads;
    private final Thread[] workers;
    private final AtomicIntegerArray parked;
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile Job current;

    WorkerPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("worker pool: need at least 1 thread, got " + threads);
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        this.parked = new AtomicIntegerArray(threads - 1);
        for (int w = 0; w < workers.length; w++) {
            int id = w;
            workers[w] = Thread.ofPlatform().daemon().name("diffuse-java-" + (w + 1)).unstarted(() -> loop(id));
            workers[w].start();
        }
    }

    int threads() { return threads; }

    /** Runs {@code body(0..chunks-1)}, each once, on the pool's threads; returns when all have finished. */
    void run(int chunks, IntConsumer body) {
        if (chunks <= 0) return;
        if (chunks == 1 || workers.length == 0 || !busy.compareAndSet(false, true)) {
            for (int i = 0; i < chunks; i++) body.accept(i);
            return;
        }
        Job job = new Job(body, chunks);
        try {
            current = job;
            for (int w = 0; w < workers.length; w++) if (parked.get(w) != 0) LockSupport.unpark(workers[w]);
            job.work();
            for (int spins = 0; job.done.get() < chunks; spins++) {
                if (spins < 1 << 16) Thread.onSpinWait();
                else Thread.yield();
            }
        } finally {
            current = null;
            busy.set(false);
        }
        Throwable t = job.failure;
        if (t instanceof RuntimeException r) throw r;
        if (t instanceof Error e) throw e;
        if (t != null) throw new IllegalStateException("a parallel chunk failed", t);
    }

    private void loop(int id) {
        Job last = null;
        while (true) {
            Job job = current;
            if (job != null && job != last) {
                last = job;
                job.work();
                continue;
            }
            long until = System.nanoTime() + SPIN_NANOS;
            while ((job = current) == null || job == last) {
                if (System.nanoTime() < until) {
                    Thread.onSpinWait();
                    continue;
                }
                parked.set(id, 1);
                // re-check after announcing (both are volatile accesses): a loop published before the flag was
                // visible to its caller would not unpark us
                job = current;
                if (job == null || job == last) LockSupport.park(this);
                parked.set(id, 0);
                until = System.nanoTime() + SPIN_NANOS;
            }
        }
    }
}
