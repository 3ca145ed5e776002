package dev.diffuse.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.*;

import dev.diffuse.kernels.loss.MseLoss;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.Tensor;

/**
 * Weighted MSE loss on the noise prediction, shape (B, C, H, W): small U-Net 64x1x28x28, CIFAR U-Net 128x3x32x32.
 * Memory bound: see {@link #forwardBytes} and {@link #backwardBytes}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class LossBench {
    @Param({"java", "cl"})
    public String device;

    @Param({"64x1x28x28", "128x3x32x32"})
    public String shape;

    private Device d;
    private Tensor pred, target, w, out, grad;
    private float[] hostPred;

    /** Bytes moved by {@code forward}: read pred and target, 8 per element (+ 4B weights). */
    public static double forwardBytes(int[] shape) {
        return 8.0 * Tensor.numel(shape) + 4.0 * shape[0];
    }

    /** Bytes moved by {@code backward}: read pred and target, write dpred, 12 per element (+ 4B weights). */
    public static double backwardBytes(int[] shape) {
        return 12.0 * Tensor.numel(shape) + 4.0 * shape[0];
    }

    @Setup
    public void setup() {
        d = BenchDevices.of(device);
        int[] s = BenchDevices.shape(shape);
        pred = Tensor.allocate(d, s);
        target = Tensor.allocate(d, s);
        grad = Tensor.allocate(d, s);
        w = Tensor.allocate(d, s[0]);
        out = Tensor.allocate(d, 1);
        Rng.fillNormal(pred, 1, 0);
        Rng.fillNormal(target, 1, 1);
        Rng.fillNormal(w, 1, 2);
        hostPred = pred.toArray();
        d.finish();
    }

    @TearDown
    public void tearDown() {
        for (Tensor t : new Tensor[]{pred, target, grad, w, out}) t.close();
    }

    @Benchmark
    public void forward() {
        MseLoss.forward(out, pred, target, w);
        d.finish();
    }

    @Benchmark
    public void backward() {
        MseLoss.backward(grad, pred, target, w, 1f);
        d.finish();
    }

    @Benchmark
    public float forwardWithTransfers() {
        pred.upload(hostPred);
        MseLoss.forward(out, pred, target, w);
        return out.get(0);
    }
}
