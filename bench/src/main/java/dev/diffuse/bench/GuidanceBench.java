package dev.diffuse.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.*;

import dev.diffuse.kernels.guidance.Guidance;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.Tensor;

/** Classifier-free guidance on a 2B model output: combine (elementwise) and rescale (per-sample std, 3 passes). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class GuidanceBench {
    @Param({"java", "cl"})
    public String device;

    /** The guided batch B x (C, H, W); the model output is 2B rows. */
    @Param({"64x3x32x32", "16x4x64x64"})
    public String shape;

    private Device d;
    private Tensor m, out;
    private float[] hostM;

    /** Bytes of combine: read 2 values, write 1 (12 per guided element). */
    public static double combineBytes(int[] shape) { return 12.0 * dev.diffuse.runtime.Tensor.numel(shape); }

    /** Bytes of rescale: 3 reads of both halves and one write (28 per guided element; 2 of the 3 passes hit L2 on a GPU). */
    public static double rescaleBytes(int[] shape) { return 28.0 * dev.diffuse.runtime.Tensor.numel(shape); }

    @Setup
    public void setup() {
        d = BenchDevices.of(device);
        int[] s = BenchDevices.shape(shape);
        int[] s2 = s.clone();
        s2[0] *= 2;
        m = Tensor.allocate(d, s2);
        out = Tensor.allocate(d, s);
        Rng.fillNormal(m, 1, 0);
        hostM = m.toArray();
        d.finish();
    }

    @TearDown
    public void tearDown() {
        m.close();
        out.close();
    }

    @Benchmark
    public void combine() {
        Guidance.combine(out, m, 3.0);
        d.finish();
    }

    @Benchmark
    public void rescale() {
        Guidance.rescale(out, m, 3.0, 0.7);
        d.finish();
    }

    @Benchmark
    public float[] rescaleWithTransfers() {
        m.upload(hostM);
        Guidance.rescale(out, m, 3.0, 0.7);
        return out.toArray();
    }
}
