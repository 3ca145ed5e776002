package dev.diffuse.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.*;

import dev.diffuse.kernels.reduce.Reduce;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.Tensor;

/** Deterministic sum of squares (the gradient-norm building block): 4 bytes read per element. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class ReduceBench {
    @Param({"java", "cl"})
    public String device;

    /** 2M parameters (small U-Net) and 35.7M (DDPM CIFAR-10 U-Net). */
    @Param({"2000000", "35700000"})
    public int n;

    private Device d;
    private Tensor x, out;

    @Setup
    public void setup() {
        d = BenchDevices.of(device);
        x = Tensor.allocate(d, n);
        out = Tensor.allocate(d, 1);
        Rng.fillNormal(x, 1, 0);
        d.finish();
    }

    @TearDown
    public void tearDown() {
        x.close();
        out.close();
    }

    @Benchmark
    public void sumSquares() {
        Reduce.sumSquares(out, x);
        d.finish();
    }
}
