package dev.diffuse.bench;

import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import org.openjdk.jmh.annotations.*;
import org.openjdk.jmh.infra.Blackhole;

import dev.diffuse.runtime.JavaDevice;

/**
 * The cost of one parallel loop on the Java device, the overhead each of the ~100 small ops of a batch-1 U-Net
 * forward pays: {@code pool} is {@link JavaDevice#parallelFor} (the persistent worker pool), {@code forkJoin} the
 * common fork-join pool through {@code IntStream.parallel()} (what the device used before). Each chunk does
 * {@code work} dependent multiply-adds (about 1 ns each), so {@code work=0} is the pure dispatch + barrier cost.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class ParallelForBench {
    @Param({"2", "16"})
    public int chunks;

    @Param({"0", "2000"})
    public int work;

    private final JavaDevice d = JavaDevice.get();
    private final double[] sink = new double[64 * 16];

    private void chunk(int c) {
        double x = c;
        for (int i = 0; i < work; i++) x = x * 0.999 + 1;
        sink[c * 16 % sink.length] = x;
    }

    @Benchmark
    public void pool(Blackhole bh) {
        d.parallelFor(chunks, this::chunk);
        bh.consume(sink);
    }

    @Benchmark
    public void forkJoin(Blackhole bh) {
        IntStream.range(0, chunks).parallel().forEach(this::chunk);
        bh.consume(sink);
    }
}
