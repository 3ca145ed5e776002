package dev.diffuse.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.*;

import dev.diffuse.kernels.flow.FlowMatching;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.Tensor;

/** The flow-matching training pair (x_t, target) with eps drawn in the kernel: read x0, write two tensors. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class FlowMatchingBench {
    @Param({"java", "cl"})
    public String device;

    @Param({"64x1x28x28", "128x3x32x32"})
    public String shape;

    private Device d;
    private Tensor x0, t, xt, target;
    private float[] hostX0;

    /** Bytes per call: read x0, write x_t and target (12 per element; eps is generated, not moved). */
    public static double bytes(int[] shape) { return 12.0 * dev.diffuse.runtime.Tensor.numel(shape); }

    @Setup
    public void setup() {
        d = BenchDevices.of(device);
        int[] s = BenchDevices.shape(shape);
        x0 = Tensor.allocate(d, s);
        xt = Tensor.allocate(d, s);
        target = Tensor.allocate(d, s);
        t = Tensor.allocate(d, s[0]);
        Rng.fillNormal(x0, 1, 0);
        Rng.fillUniform(t, 1, 1, 0);
        hostX0 = x0.toArray();
        d.finish();
    }

    @TearDown
    public void tearDown() {
        for (Tensor v : new Tensor[]{x0, t, xt, target}) v.close();
    }

    @Benchmark
    public void pair() {
        FlowMatching.pairDrawn(xt, target, x0, t, 1, 2);
        d.finish();
    }

    @Benchmark
    public float[] pairWithTransfers() {
        x0.upload(hostX0);
        FlowMatching.pairDrawn(xt, target, x0, t, 1, 2);
        return target.toArray();
    }
}
