package dev.diffuse.pipeline;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The request queue and its batching policy (dynamic batching). The worker asks {@link #next} for a batch:
 * <ol>
 *   <li>the leader is the first job in queue order that can take rows (not finished, rows left, a streaming caller
 *       not behind);</li>
 *   <li>if the jobs compatible with it (equal {@link Plan.Key}) have fewer rows than a batch, wait up to the batching
 *       window for more, re-checking at every arrival;</li>
 *   <li>fill the batch with the leader's next rows, then those of every compatible job in queue order, up to
 *       maxBatch rows: one contiguous slice per job;</li>
 *   <li>move the leader to the back if it has rows left, so a large request shares the worker round-robin with
 *       later ones instead of holding it until it is done.</li>
 * </ol>
 * A request whose sampler couples its rows (predictor-corrector) runs alone, all its rows in one batch.
 */
final class BatchQueue {
    /** A contiguous run of one job's images in a batch. */
    record Slice(Job job, int first, int count) {}

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Job> jobs = new ArrayDeque<>();
    private final int maxBatch;
    private final long windowNanos;
    private boolean closed;

    BatchQueue(int maxBatch, long windowNanos) {
        this.maxBatch = maxBatch;
        this.windowNanos = windowNanos;
    }

    /** Queues a job; refused once the queue is closed. */
    void add(Job job) {
        lock.lock();
        try {
            if (closed) throw new IllegalStateException("the pipeline is closed: it takes no new requests");
            jobs.addLast(job);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Wakes the worker (a job was cancelled, or a streaming caller made room). */
    void wake() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** No new jobs; {@link #next} returns null once every queued job has been handed out. */
    void close() {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    /** The next batch (blocking), or null when the queue is closed and empty. */
    List<Slice> next() throws InterruptedException {
        lock.lock();
        try {
            Job waitingFor = null;
            long deadline = 0;
            while (true) {
                jobs.removeIf(j -> j.future.isDone() || j.remaining() == 0);
                Job leader = null;
                for (Job j : jobs) {
                    if (j.ready()) {
                        leader = j;
                        break;
                    }
                }
                if (leader == null) {
                    if (closed && jobs.isEmpty()) return null;
                    changed.await(100, TimeUnit.MILLISECONDS); // also re-checks streaming callers that drained their hand-off
                    waitingFor = null;
                    continue;
                }
                if (!leader.plan.coupled() && !closed && windowNanos > 0 && compatibleRows(leader) < maxBatch) {
                    if (waitingFor != leader) {
                        waitingFor = leader;
                        deadline = System.nanoTime() + windowNanos;
                    }
                    long left = deadline - System.nanoTime();
                    if (left > 0) {
                        changed.awaitNanos(left);
                        continue;
                    }
                }
                return gather(leader);
            }
        } finally {
            lock.unlock();
        }
    }

    private int compatibleRows(Job leader) {
        long rows = 0;
        for (Job j : jobs)
            if (j.ready() && !j.plan.coupled() && j.plan.key().equals(leader.plan.key())) rows += j.remaining();
        return (int) Math.min(rows, maxBatch);
    }

    private List<Slice> gather(Job leader) {
        List<Slice> batch = new ArrayList<>();
        if (leader.plan.coupled()) {
            batch.add(take(leader, leader.remaining()));
        } else {
            int room = maxBatch;
            batch.add(take(leader, Math.min(room, leader.remaining())));
            room -= batch.getFirst().count();
            for (Job j : jobs) {
                if (room == 0) break;
                if (j == leader || !j.ready() || j.plan.coupled() || !j.plan.key().equals(leader.plan.key())) continue;
                Slice s = take(j, Math.min(room, j.remaining()));
                batch.add(s);
                room -= s.count();
            }
        }
        if (leader.remaining() > 0 && jobs.remove(leader)) jobs.addLast(leader);
        return batch;
    }

    private static Slice take(Job j, int count) {
        Slice s = new Slice(j, j.next, count);
        j.next += count;
        return s;
    }
}
