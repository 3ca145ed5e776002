package dev.diffuse.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.*;

import dev.diffuse.kernels.elementwise.Elementwise;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.Tensor;

/** Elementwise add and axpby: 12 bytes per element, memory bound. Shapes: small U-Net and CIFAR U-Net activations. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class ElementwiseBench {
    @Param({"java", "cl"})
    public String device;

    /** (N, C, H, W): small U-Net 28x28x32 at batch 64; CIFAR U-Net 32x32x128 at batch 128. */
    @Param({"64x32x28x28", "128x128x32x32"})
    public String shape;

    private Device d;
    private Tensor x, y, z;

    @Setup
    public void setup() {
        d = BenchDevices.of(device);
        int[] s = BenchDevices.shape(shape);
        x = Tensor.allocate(d, s);
        y = Tensor.allocate(d, s);
        z = Tensor.allocate(d, s);
        Rng.fillNormal(x, 1, 0);
        Rng.fillNormal(y, 1, 1);
        d.finish();
    }

    @TearDown
    public void tearDown() {
        x.close();
        y.close();
        z.close();
    }

    @Benchmark
    public void add() {
        Elementwise.add(z, x, y);
        d.finish();
    }

    @Benchmark
    public void axpby() {
        Elementwise.axpby(z, 0.5f, x, -2f, y);
        d.finish();
    }
}
