package dev.diffuse.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.*;

import dev.diffuse.kernels.scheduler.SchedulerStep;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.Tensor;

/**
 * The fused diffusers step (DDPM with noise and clip) and the dynamic-threshold quantile (radix select, 8 passes over
 * each sample). Shapes: CIFAR images (B, 3, 32, 32) and SD-like latents (B, 4, 64, 64).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class SchedulerStepBench {
    @Param({"java", "cl"})
    public String device;

    @Param({"64x3x32x32", "16x4x64x64"})
    public String shape;

    private Device d;
    private Tensor x, m, out, x0, thr;
    private float[] hostX, hostM;
    private static final SchedulerStep.Coefficients DDPM = new SchedulerStep.Coefficients(1.2, -0.6, SchedulerStep.Clip.CLIP, -1, 1,
            0.99, 0.02, 0, 0.1, SchedulerStep.Variance.FIXED, 0, 0, true);

    /** Bytes of one step: read x and m, write x' and x0 (16 per element). */
    public static double stepBytes(int[] shape) { return 16.0 * dev.diffuse.runtime.Tensor.numel(shape); }

    /** Bytes of one quantile: two radix selects of 4 passes, each reading x and m (64 per element, mostly from cache). */
    public static double quantileBytes(int[] shape) { return 64.0 * dev.diffuse.runtime.Tensor.numel(shape); }

    @Setup
    public void setup() {
        d = BenchDevices.of(device);
        int[] s = BenchDevices.shape(shape);
        x = Tensor.allocate(d, s);
        m = Tensor.allocate(d, s);
        out = Tensor.allocate(d, s);
        x0 = Tensor.allocate(d, s);
        thr = Tensor.allocate(d, s[0]);
        Rng.fillNormal(x, 1, 0);
        Rng.fillNormal(m, 1, 1);
        hostX = x.toArray();
        hostM = m.toArray();
        d.finish();
    }

    @TearDown
    public void tearDown() {
        for (Tensor t : new Tensor[]{x, m, out, x0, thr}) t.close();
    }

    @Benchmark
    public void step() {
        SchedulerStep.step(out, x0, x, m, null, DDPM, 1, 2);
        d.finish();
    }

    @Benchmark
    public void quantile() {
        SchedulerStep.absQuantile(thr, x, m, 1.2, -0.6, 0.995, 3);
        d.finish();
    }

    @Benchmark
    public float[] stepWithTransfers() {
        x.upload(hostX);
        m.upload(hostM);
        SchedulerStep.step(out, x0, x, m, null, DDPM, 1, 2);
        return out.toArray();
    }
}
