package dev.diffuse.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.*;

import dev.diffuse.kernels.diffusion.SamplerCombine;
import dev.diffuse.kernels.reduce.Reduce;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.Tensor;

/**
 * The fused combines of the advanced samplers: RK4's final update x' = a x + sum of 4 stage outputs (5 tensors read,
 * 1 written: 24 bytes per element), DPM-Solver++(2M)'s x' = a x + b m + b' x0_prev with x0_prev <- p x + q m
 * (3 read, 2 written: 20 bytes), and one Langevin correction of the predictor-corrector sampler with its two
 * norms reduced on the device (z drawn and written, two reductions, corrector: 4 + 4 + 4 + 16 = 28 bytes).
 * Shapes as DiffusionBench.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class SamplerCombineBench {
    @Param({"java", "cl"})
    public String device;

    @Param({"128x1x28x28", "128x3x32x32", "1048576x2"})
    public String shape;

    private Device d;
    private Tensor x, out, z, ssZ, ssG;
    private Tensor[] m;
    private long step;

    /** Bytes moved per element: RK4 combine. */
    public static double rk4BytesPerElement() { return 24; }

    /** Bytes moved per element: DPM-Solver++(2M) update with the x0 kept. */
    public static double multistepBytesPerElement() { return 20; }

    /** Bytes moved per element: one Langevin correction (fill z, two sums of squares, corrector). */
    public static double correctorBytesPerElement() { return 28; }

    @Setup
    public void setup() {
        d = BenchDevices.of(device);
        int[] sh = BenchDevices.shape(shape);
        x = Tensor.allocate(d, sh);
        out = Tensor.allocate(d, sh);
        z = Tensor.allocate(d, sh);
        ssZ = Tensor.allocate(d, 1);
        ssG = Tensor.allocate(d, 1);
        m = new Tensor[4];
        for (int k = 0; k < 4; k++) {
            m[k] = Tensor.allocate(d, sh);
            Rng.fillNormal(m[k], 1, k + 1);
        }
        Rng.fillNormal(x, 1, 0);
        d.finish();
    }

    @TearDown
    public void tearDown() {
        for (Tensor t : new Tensor[]{x, out, z, ssZ, ssG, m[0], m[1], m[2], m[3]}) t.close();
    }

    @Benchmark
    public void rk4Combine() {
        SamplerCombine.combine(out, x, m, 1.0, new double[]{-0.01, -0.02, -0.02, -0.01}, 0, 7, 0);
        d.finish();
    }

    @Benchmark
    public void multistepWithAux() {
        SamplerCombine.combine(out, m[1], x, new Tensor[]{m[0], m[1]}, 0.9, new double[]{0.1, -0.05}, 1.1, -0.2, 0, 7, 0);
        d.finish();
    }

    @Benchmark
    public void langevinCorrection() {
        Rng.fillNormal(z, 7, step++, 0, 0f, 1f);
        Reduce.sumSquares(ssZ, z);
        Reduce.sumSquares(ssG, m[0]);
        SamplerCombine.langevinCorrect(out, x, m[0], z, ssZ, ssG, 0, -2.0, 4.0, 0.05);
        d.finish();
    }

    @Benchmark
    public void rk4CombineWithTransfers() {
        float[] host = new float[Math.toIntExact(x.numel())];
        x.upload(host);
        SamplerCombine.combine(out, x, m, 1.0, new double[]{-0.01, -0.02, -0.02, -0.01}, 0, 7, 0);
        out.toArray();
    }
}
