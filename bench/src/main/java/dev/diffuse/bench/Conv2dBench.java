package dev.diffuse.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.*;

import dev.diffuse.kernels.conv2d.Conv2d;
import dev.diffuse.kernels.conv2d.Conv2dJava;
import dev.diffuse.kernels.conv2d.Conv2dSpec;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.Tensor;

/**
 * Conv2d forward and backward (dx + dw + db) with Cout = Cin, shapes from the two U-Nets: small U-Net 32@28, 64@14,
 * 128@7 (batch 1 and 64), CIFAR U-Net 128@32, 256@16 at batch 128 (slow on the Java device). GFLOP/s = {@link #flops}
 * / time (backward: 2x the forward FLOPs). {@code reference} vs {@code fast} compare the plain-loop Java reference with
 * the Java fast path at one representative shape (batch 8, 64 -> 64 channels, 14x14), independent of {@code device}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class Conv2dBench {

    /**
     * FLOPs of one forward for shape "B x Cin x H x W" (Cout = Cin) and a {@link Conv2dSpec} factory name:
     * 2 * B * Cout * OH * OW * Cin * K * K. A backward (dx and dw) costs twice this.
     */
    public static double flops(String shape, String variant) {
        int[] s = BenchDevices.shape(shape);
        return Conv2d.flops(s[0], s[1], s[2], s[3], s[1], spec(variant));
    }

    /** "same3x3", "down3x3", "down3x3Asymmetric" or "pointwise". */
    public static Conv2dSpec spec(String variant) {
        return switch (variant) {
            case "same3x3" -> Conv2dSpec.same3x3();
            case "down3x3" -> Conv2dSpec.down3x3();
            case "down3x3Asymmetric" -> Conv2dSpec.down3x3Asymmetric();
            case "pointwise" -> Conv2dSpec.pointwise();
            default -> throw new IllegalArgumentException("unknown conv2d variant '" + variant
                    + "': use same3x3, down3x3, down3x3Asymmetric or pointwise");
        };
    }

    /** Tensors of one problem on one device. */
    public static class Problem {
        Device d;
        Conv2dSpec spec;
        Tensor x, w, b, y, dy, dx, dw, db;
        float[] hostX;

        void open(Device dev, String shape, String variant) {
            d = dev;
            spec = spec(variant);
            int[] s = BenchDevices.shape(shape);
            int n = s[0], c = s[1], h = s[2], wd = s[3], k = spec.kernel(), oh = spec.outH(h), ow = spec.outW(wd);
            x = Tensor.allocate(d, n, c, h, wd);
            w = Tensor.allocate(d, c, c, k, k);
            b = Tensor.allocate(d, c);
            y = Tensor.allocate(d, n, c, oh, ow);
            dy = Tensor.allocate(d, n, c, oh, ow);
            dx = Tensor.allocate(d, n, c, h, wd);
            dw = Tensor.allocate(d, c, c, k, k);
            db = Tensor.allocate(d, c);
            Rng.fillNormal(x, 1, 0);
            Rng.fillNormal(w, 1, 1);
            Rng.fillNormal(b, 1, 2);
            Rng.fillNormal(dy, 1, 3);
            hostX = x.toArray();
            d.finish();
        }

        void close() {
            for (Tensor t : new Tensor[]{x, w, b, y, dy, dx, dw, db}) t.close();
        }
    }

    @State(Scope.Benchmark)
    public static class Conv extends Problem {
        @Param({"java", "cl"})
        public String device;

        /** B x C x H x W with Cout = C: small U-Net (batch 1, 64), CIFAR U-Net (batch 128). */
        @Param({"1x32x28x28", "64x32x28x28", "64x64x14x14", "64x128x7x7", "128x128x32x32", "128x256x16x16"})
        public String shape;

        @Param({"same3x3"})
        public String variant;

        @Setup
        public void setup() { open(BenchDevices.of(device), shape, variant); }

        @TearDown
        public void tearDown() { close(); }
    }

    /** The Java fast/reference ratio at batch 8, 64 -> 64 channels, 14x14 (always on the Java device). */
    @State(Scope.Benchmark)
    public static class JavaRatio extends Problem {
        @Param({"8x64x14x14"})
        public String shape;

        @Param({"same3x3"})
        public String variant;

        @Setup
        public void setup() { open(JavaDevice.get(), shape, variant); }

        @TearDown
        public void tearDown() { close(); }
    }

    @Benchmark
    public void forward(Conv p) {
        Conv2d.forward(p.y, p.x, p.w, p.b, p.spec);
        p.d.finish();
    }

    @Benchmark
    public void backward(Conv p) {
        Conv2d.backward(p.dx, p.dw, p.db, p.dy, p.x, p.w, p.spec);
        p.d.finish();
    }

    /** Forward including the upload of x and the read-back of y. */
    @Benchmark
    public float[] forwardWithTransfers(Conv p) {
        p.x.upload(p.hostX);
        Conv2d.forward(p.y, p.x, p.w, p.b, p.spec);
        return p.y.toArray();
    }

    /** Plain-loop Java reference forward (the spec). */
    @Benchmark
    public void reference(JavaRatio p) {
        Conv2dJava.forwardReference(p.y, p.x, p.w, p.b, p.spec);
    }

    /** Java fast path forward, same shape as {@link #reference}. */
    @Benchmark
    public void fast(JavaRatio p) {
        Conv2d.forward(p.y, p.x, p.w, p.b, p.spec);
    }

    /** Plain-loop Java reference backward. */
    @Benchmark
    public void referenceBackward(JavaRatio p) {
        Conv2dJava.backwardReference(p.dx, p.dw, p.db, p.dy, p.x, p.w, p.spec);
    }

    /** Java fast path backward. */
    @Benchmark
    public void fastBackward(JavaRatio p) {
        Conv2d.backward(p.dx, p.dw, p.db, p.dy, p.x, p.w, p.spec);
    }
}
