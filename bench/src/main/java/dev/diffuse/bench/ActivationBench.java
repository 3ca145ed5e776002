package dev.diffuse.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.*;

import dev.diffuse.kernels.activation.Activation;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.Tensor;

/** SiLU forward (8 bytes/element) and backward (12 bytes/element): memory bound; GB/s = {@link #bytes} / time. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class ActivationBench {
    @Param({"java", "cl"})
    public String device;

    /** (N, C, H, W): small U-Net at batch 64, CIFAR U-Net at batch 128. */
    @Param({"64x32x28x28", "64x128x7x7", "128x128x32x32", "128x256x16x16"})
    public String shape;

    private Device d;
    private Tensor x, y, dy;
    private float[] hostX;

    /** DRAM bytes per call: forward reads x, writes y; backward reads dy, x, writes dx. */
    public static double bytes(int[] s, boolean backward) {
        return Activation.bytesMoved((long) s[0] * s[1] * s[2] * s[3], backward);
    }

    @Setup
    public void setup() {
        d = BenchDevices.of(device);
        int[] s = BenchDevices.shape(shape);
        x = Tensor.allocate(d, s);
        y = Tensor.allocate(d, s);
        dy = Tensor.allocate(d, s);
        Rng.fillNormal(x, 1, 0);
        Rng.fillNormal(dy, 1, 1);
        hostX = x.toArray();
        d.finish();
    }

    @TearDown
    public void tearDown() {
        x.close();
        y.close();
        dy.close();
    }

    @Benchmark
    public void silu() {
        Activation.silu(y, x);
        d.finish();
    }

    @Benchmark
    public void siluBackward() {
        Activation.siluBackward(y, dy, x);
        d.finish();
    }

    @Benchmark
    public float[] siluWithTransfers() {
        x.upload(hostX);
        Activation.silu(y, x);
        return y.toArray();
    }
}
