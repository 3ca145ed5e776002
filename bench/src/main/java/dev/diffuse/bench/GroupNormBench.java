package dev.diffuse.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.*;

import dev.diffuse.kernels.groupnorm.GroupNorm;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.Tensor;

/**
 * GroupNorm and the fused GroupNorm + SiLU, forward and backward. Memory bound: report GB/s with
 * {@link #bytesCompulsory} against the device's peak (H100 SXM ~3.35 TB/s, PCIe ~2.0 TB/s; target >= 75% of 2.8).
 * Shapes: small U-Net (B=64: 32x28x28, 64x14x14, 128x7x7) and CIFAR U-Net (B=128: 128x32x32, 256x16x16).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class GroupNormBench {
    @Param({"java", "cl"})
    public String device;

    /** (N, C, H, W). */
    @Param({"64x32x28x28", "64x64x14x14", "64x128x7x7", "128x128x32x32", "128x256x16x16"})
    public String shape;

    @Param({"32"})
    public int groups;

    private Device d;
    private Tensor x, y, dy, dx, gamma, beta, dgamma, dbeta, mean, rstd, scratch;
    private float[] hostX;

    /**
     * DRAM bytes a call must move (what GB/s is computed from). Forward (plain or fused): read x, write y = 8n
     * (+ params, stats). Backward (plain or fused): read dy and x, write dx = 12n (+ params, stats, the (2, B, C)
     * partials written and re-read).
     */
    public static double bytesCompulsory(int[] s, int groups, boolean backward) {
        double n = (double) s[0] * s[1] * s[2] * s[3], bc = (double) s[0] * s[1];
        return backward ? 12 * n + 4 * 4 * bc + 4 * 4.0 * s[1] + 8.0 * s[0] * groups
                        : 8 * n + 8.0 * s[1] + 8.0 * s[0] * groups;
    }

    /**
     * Bytes the kernels actually load/store. Forward: x twice (pass 1 statistics, pass 2 normalise; one group is at
     * most Cg*HW*4 bytes = 16-32 KB at these shapes, so the second read is served from L2) + y: 12n. Backward: pass 1
     * reads dy, x; pass 2 reads dy, x again (L2) and writes dx: 20n.
     */
    public static double bytesIssued(int[] s, boolean backward) {
        double n = (double) s[0] * s[1] * s[2] * s[3];
        return (backward ? 20 : 12) * n;
    }

    @Setup
    public void setup() {
        d = BenchDevices.of(device);
        int[] s = BenchDevices.shape(shape);
        int b = s[0], c = s[1];
        x = Tensor.allocate(d, s);
        y = Tensor.allocate(d, s);
        dy = Tensor.allocate(d, s);
        dx = Tensor.allocate(d, s);
        gamma = Tensor.allocate(d, c);
        beta = Tensor.allocate(d, c);
        dgamma = Tensor.allocate(d, c);
        dbeta = Tensor.allocate(d, c);
        mean = Tensor.allocate(d, b, groups);
        rstd = Tensor.allocate(d, b, groups);
        scratch = Tensor.allocate(d, GroupNorm.scratchShape(b, c));
        Rng.fillNormal(x, 1, 0);
        Rng.fillNormal(dy, 1, 1);
        Rng.fillNormal(gamma, 1, 2);
        Rng.fillNormal(beta, 1, 3);
        GroupNorm.forward(y, mean, rstd, x, gamma, beta, groups, 1e-5f);
        hostX = x.toArray();
        d.finish();
    }

    @TearDown
    public void tearDown() {
        for (Tensor t : new Tensor[]{x, y, dy, dx, gamma, beta, dgamma, dbeta, mean, rstd, scratch}) t.close();
    }

    @Benchmark
    public void forward() {
        GroupNorm.forward(y, mean, rstd, x, gamma, beta, groups, 1e-5f);
        d.finish();
    }

    @Benchmark
    public void forwardSilu() {
        GroupNorm.forwardSilu(y, mean, rstd, x, gamma, beta, groups, 1e-5f);
        d.finish();
    }

    @Benchmark
    public void backward() {
        GroupNorm.backward(dx, dgamma, dbeta, dy, x, gamma, beta, mean, rstd, scratch, groups);
        d.finish();
    }

    @Benchmark
    public void backwardSilu() {
        GroupNorm.backwardSilu(dx, dgamma, dbeta, dy, x, gamma, beta, mean, rstd, scratch, groups);
        d.finish();
    }

    @Benchmark
    public float[] forwardSiluWithTransfers() {
        x.upload(hostX);
        GroupNorm.forwardSilu(y, mean, rstd, x, gamma, beta, groups, 1e-5f);
        return y.toArray();
    }
}
