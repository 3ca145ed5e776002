package dev.diffuse.bench.roofline;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.IntConsumer;

import dev.diffuse.runtime.JavaDevice;

/**
 * {@link Roofline} of the Java device: the FMA rate of {@link FmaChains} and the bandwidth of
 * {@code MemorySegment.copy} between two off-heap buffers (DRAM-sized on 1..T threads, smaller working sets on T),
 * on platform threads (T = the device's thread count), each the best of a few trials of about 30 ms.
 */
final class JavaRoofline {
    static final int FMA_ITERATIONS = 4096, TRIALS = 8;

    private JavaRoofline() {}

    static Roofline measure(JavaDevice d) {
        int threads = d.threads();
        double[] fma = new double[threads], copy = new double[threads];
        warmUpFma();
        for (int t = 1; t <= threads; t++) fma[t - 1] = fmaRate(t);
        List<Roofline.CopyPoint> bySize = new ArrayList<>();
        long[] sizes = Roofline.WORKING_SETS;
        long largest = sizes[sizes.length - 1] / 2;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment src = arena.allocate(largest, 4096), dst = arena.allocate(largest, 4096);
            src.fill((byte) 1);
            dst.fill((byte) 2);   // touch every page first: page faults are not bandwidth
            for (int t = 1; t <= threads; t++) copy[t - 1] = copyRate(src, dst, t);
            for (int i = 0; i < sizes.length - 1; i++)
                bySize.add(new Roofline.CopyPoint(sizes[i], copyRate(src.asSlice(0, sizes[i] / 2), dst.asSlice(0, sizes[i] / 2), threads)));
        }
        bySize.add(new Roofline.CopyPoint(2 * largest, java.util.Arrays.stream(copy).max().orElseThrow()));
        return new Roofline(d.name(), fma, copy, Roofline.monotone(bySize),
                FmaChains.CHAINS + " FMA chains over FloatVector " + FmaChains.S.vectorBitSize() + "-bit, MemorySegment.copy");
    }

    /** Calls {@link FmaChains#run} until C2 has compiled it (about 0.3 s of calls). */
    static void warmUpFma() {
        long end = System.nanoTime() + 300_000_000L;
        float sink = 0;
        while (System.nanoTime() < end) sink += FmaChains.run(FMA_ITERATIONS, sink * 1e-30f);
        if (sink == 42f) System.out.print("");   // keeps sink alive
    }

    static double fmaRate(int threads) {
        int calls = 2000;   // ~30 ms per thread at ~200 GFLOP/s per core
        float[] sink = new float[threads];
        double best = 0;
        for (int trial = 0; trial < TRIALS; trial++) {
            double secs = timed(threads, t -> {
                float s = 0;
                for (int k = 0; k < calls; k++) s += FmaChains.run(FMA_ITERATIONS, k);
                sink[t] = s;
            });
            best = Math.max(best, threads * calls * FmaChains.flops(FMA_ITERATIONS) / secs);
        }
        return best;
    }

    /** Bytes/s (read + write) of copying src to dst, split into equal contiguous parts over {@code threads}. */
    static double copyRate(MemorySegment src, MemorySegment dst, int threads) {
        long bytes = src.byteSize(), part = bytes / threads / 4096 * 4096;
        int repeats = (int) Math.max(1, (64L << 20) / bytes);   // small buffers: several copies per trial
        double best = 0;
        for (int trial = 0; trial < TRIALS + 1; trial++) {
            double secs = timed(threads, t -> {
                long from = t * part, len = t == threads - 1 ? bytes - from : part;
                for (int r = 0; r < repeats; r++) MemorySegment.copy(src, from, dst, from, len);
            });
            if (trial > 0) best = Math.max(best, 2.0 * bytes * repeats / secs);   // trial 0 warms up
        }
        return best;
    }

    /** Seconds from the release of {@code threads} started threads until the last has run {@code work(threadIndex)}. */
    static double timed(int threads, IntConsumer work) {
        CountDownLatch ready = new CountDownLatch(threads), go = new CountDownLatch(1);
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int index = t;
            ts[t] = Thread.ofPlatform().name("roofline-" + t).start(() -> {
                ready.countDown();
                try {
                    go.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                work.accept(index);
            });
        }
        try {
            ready.await();
            long t0 = System.nanoTime();
            go.countDown();
            for (Thread t : ts) t.join();
            return (System.nanoTime() - t0) / 1e9;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("roofline measurement interrupted", e);
        }
    }
}
