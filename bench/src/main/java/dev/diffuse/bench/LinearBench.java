package dev.diffuse.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.*;

import dev.diffuse.kernels.linear.Gemm;
import dev.diffuse.kernels.linear.Linear;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.Tensor;

/**
 * Linear layer y = x W^T + b as GEMMs, shape "MxNxK": x (M, K), W (N, K), y (M, N). Shapes from the U-Nets:
 * 256^3 (the Java fast-vs-reference yardstick), the CIFAR time-embedding MLP 128x512x128 (batch 128, 128 -> 512),
 * the small U-Net's attention projections at 14x14 (batch 64: 64*196 x 64 x 64) and CIFAR's at 16x16
 * (batch 128: 128*256 x 256 x 256). {@code forward} is GEMM NT + bias, {@code backward} GEMM NN (dx) + GEMM TN
 * (dW) + bias column sum, {@code reference} the plain Java triple loop of the NT GEMM on the Java device whatever
 * {@code device} says (compare it with {@code gemmNT} at device=java; it takes seconds per call at the large shapes,
 * so pass {@code -p shape=256x256x256} for it).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class LinearBench {
    @Param({"java", "cl"})
    public String device;

    @Param({"256x256x256", "512x512x512", "128x512x128", "12544x64x64", "32768x256x256"})
    public String shape;

    private Device d;
    private int m, n, k;
    private Tensor x, w, b, y, dy, dx, dw, db;
    private Tensor jx, jw, jy;
    private float[] hostX;

    /** FLOPs of one GEMM of shape "MxNxK": 2MNK ({@code gemmNT}, {@code forward} add MN for the bias). */
    public static double flops(int[] mnk) {
        return Gemm.flops(mnk[0], mnk[1], mnk[2]);
    }

    /** FLOPs of {@code backward}: two GEMMs (dx, dW) and the bias sum: 4MNK + MN. */
    public static double backwardFlops(int[] mnk) {
        return 2 * flops(mnk) + (double) mnk[0] * mnk[1];
    }

    @Setup
    public void setup() {
        d = BenchDevices.of(device);
        int[] s = BenchDevices.shape(shape);
        m = s[0];
        n = s[1];
        k = s[2];
        x = rand(d, 1, m, k);
        w = rand(d, 2, n, k);
        b = rand(d, 3, n);
        dy = rand(d, 4, m, n);
        y = Tensor.allocate(d, m, n);
        dx = Tensor.allocate(d, m, k);
        dw = Tensor.allocate(d, n, k);
        db = Tensor.allocate(d, n);
        JavaDevice j = JavaDevice.get();
        jx = rand(j, 1, m, k);
        jw = rand(j, 2, n, k);
        jy = Tensor.allocate(j, m, n);
        hostX = jx.toArray();
        d.finish();
    }

    private static Tensor rand(Device dev, long seed, int... shape) {
        Tensor t = Tensor.allocate(dev, shape);
        Rng.fillNormal(t, seed, 0);
        return t;
    }

    @TearDown
    public void tearDown() {
        for (Tensor t : new Tensor[]{x, w, b, y, dy, dx, dw, db, jx, jw, jy}) t.close();
    }

    @Benchmark
    public void gemmNT() {
        Gemm.gemm(y, x, w, false, true, 1f, 0f);
        d.finish();
    }

    @Benchmark
    public void reference() {
        Gemm.reference(jy, jx, jw, false, true, 1f, 0f);
    }

    @Benchmark
    public void forward() {
        Linear.forward(y, x, w, b);
        d.finish();
    }

    @Benchmark
    public void backward() {
        Linear.backward(dx, dw, db, dy, x, w);
        d.finish();
    }

    @Benchmark
    public float[] forwardWithTransfers() {
        x.upload(hostX);
        Linear.forward(y, x, w, b);
        return y.toArray();
    }
}
