package dev.diffuse.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.Test;

/** Every chunk runs exactly once, failures reach the caller, nested and concurrent loops complete. */
class WorkerPoolTest {
    @Test
    void everyChunkRunsExactlyOnceOverManyLoops() {
        WorkerPool pool = new WorkerPool(3);
        for (int n : new int[]{1, 2, 3, 7, 64, 1000}) {
            for (int rep = 0; rep < 200; rep++) {
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                pool.run(n, hits::incrementAndGet);
                for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "chunk " + i + " of " + n);
            }
        }
    }

    @Test
    void parkedWorkersWakeUpForTheNextLoop() throws InterruptedException {
        WorkerPool pool = new WorkerPool(2);
        pool.run(4, i -> { });
        Thread.sleep(20); // longer than the spin: the worker parks
        int[] out = new int[8];
        pool.run(8, i -> out[i] = i * i);
        assertArrayEquals(new int[]{0, 1, 4, 9, 16, 25, 36, 49}, out);
    }

    @Test
    void aFailingChunkIsRethrownAndThePoolStaysUsable() {
        WorkerPool pool = new WorkerPool(2);
        IllegalStateException boom = new IllegalStateException("boom");
        var e = assertThrows(IllegalStateException.class, () -> pool.run(16, i -> {
            if (i == 5) throw boom;
        }));
        assertSame(boom, e);
        AtomicIntegerArray hits = new AtomicIntegerArray(10);
        pool.run(10, hits::incrementAndGet);
        for (int i = 0; i < 10; i++) assertEquals(1, hits.get(i));
    }

    @Test
    void nestedLoopsRunInlineWithoutDeadlock() {
        WorkerPool pool = new WorkerPool(2);
        AtomicIntegerArray hits = new AtomicIntegerArray(6 * 5);
        pool.run(6, i -> pool.run(5, j -> hits.incrementAndGet(i * 5 + j)));
        for (int i = 0; i < 30; i++) assertEquals(1, hits.get(i));
    }

    @Test
    void concurrentCallersBothComplete() throws InterruptedException {
        WorkerPool pool = new WorkerPool(2);
        int n = 200;
        AtomicIntegerArray a = new AtomicIntegerArray(n), b = new AtomicIntegerArray(n);
        CountDownLatch start = new CountDownLatch(1);
        Thread other = Thread.ofPlatform().start(() -> {
            try {
                start.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            for (int rep = 0; rep < 50; rep++) pool.run(n, b::incrementAndGet);
        });
        start.countDown();
        for (int rep = 0; rep < 50; rep++) pool.run(n, a::incrementAndGet);
        other.join();
        for (int i = 0; i < n; i++) {
            assertEquals(50, a.get(i));
            assertEquals(50, b.get(i));
        }
    }

    @Test
    void badThreadCountIsRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> new WorkerPool(0));
        assertTrue(e.getMessage().contains("at least 1"), e.getMessage());
    }
}
