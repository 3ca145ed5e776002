package dev.diffuse.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.*;

import dev.diffuse.kernels.diffusion.QSample;
import dev.diffuse.kernels.diffusion.SamplerStep;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.Tensor;

/**
 * The fused diffusion kernels: q_sample with eps drawn in-kernel and written out (x0 read, x_t and eps written:
 * 12 bytes per element) and the sampler step x' = a x + b m + c z with in-kernel noise (x, m read, x' written:
 * 12 bytes per element). Shapes: a batch of 28x28 grey images and of CIFAR 3x32x32 images, and a large 2-D
 * point cloud.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class DiffusionBench {
    @Param({"java", "cl"})
    public String device;

    @Param({"128x1x28x28", "128x3x32x32", "1048576x2"})
    public String shape;

    private Device d;
    private Tensor x, m, out, eps, a, s;
    private long step;

    /** Bytes moved per element by either kernel. */
    public static double bytesPerElement() { return 12; }

    @Setup
    public void setup() {
        d = BenchDevices.of(device);
        int[] sh = BenchDevices.shape(shape);
        x = Tensor.allocate(d, sh);
        m = Tensor.allocate(d, sh);
        out = Tensor.allocate(d, sh);
        eps = Tensor.allocate(d, sh);
        a = Tensor.allocate(d, sh[0]);
        s = Tensor.allocate(d, sh[0]);
        Rng.fillNormal(x, 1, 0);
        Rng.fillNormal(m, 1, 1);
        Rng.fillUniform(a, 1, 2, 0);
        Rng.fillUniform(s, 1, 3, 0);
        d.finish();
    }

    @TearDown
    public void tearDown() {
        for (Tensor t : new Tensor[]{x, m, out, eps, a, s}) t.close();
    }

    @Benchmark
    public void qSampleDrawn() {
        QSample.applyDrawn(out, eps, x, a, s, 7, step++);
        d.finish();
    }

    @Benchmark
    public void samplerStep() {
        SamplerStep.step(out, x, m, 0.99, -0.05, 0.1, 7, step++);
        d.finish();
    }

    @Benchmark
    public void samplerStepWithTransfers() {
        float[] host = new float[Math.toIntExact(x.numel())];
        x.upload(host);
        SamplerStep.step(out, x, m, 0.99, -0.05, 0.1, 7, step++);
        out.toArray();
    }
}
