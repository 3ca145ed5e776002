package dev.diffuse.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.*;

import dev.diffuse.kernels.shape.ShapeOps;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.Tensor;

/**
 * Nearest 2x upsample (+ backward), channel concat of two equal tensors (+ split), broadcast add of a (B, C)
 * embedding (+ de reduction). {@code shape} is the input x (N, C, H, W); concat joins two such tensors; upsample
 * doubles H, W. Memory bound: GB/s from {@link #bytesUpsample}, {@link #bytesConcat}, {@link #bytesAddBroadcast}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class ShapeOpsBench {
    @Param({"java", "cl"})
    public String device;

    @Param({"64x32x28x28", "64x64x14x14", "64x128x7x7", "128x128x32x32", "128x256x16x16"})
    public String shape;

    private Device d;
    private Tensor x, x2, cat, up, upGrad, dx, e, de;
    private float[] hostX;

    /** Upsample forward or backward: 4 bytes per input element + 16 per its four outputs. */
    public static double bytesUpsample(int[] s) { return ShapeOps.bytesUpsample(s[0], s[1], s[2], s[3]); }

    /** Concat or split of two (N, C, H, W) tensors: 8 bytes per element of the (N, 2C, H, W) result. */
    public static double bytesConcat(int[] s) { return ShapeOps.bytesConcat(s[0], s[1], s[1], s[2], s[3]); }

    /** Broadcast add: forward 8n + 4BC; backward (dx aliasing dy) 4n + 4BC. */
    public static double bytesAddBroadcast(int[] s, boolean backward) { return ShapeOps.bytesAddBroadcast(s[0], s[1], s[2], s[3], backward); }

    @Setup
    public void setup() {
        d = BenchDevices.of(device);
        int[] s = BenchDevices.shape(shape);
        int b = s[0], c = s[1], h = s[2], w = s[3];
        x = Tensor.allocate(d, s);
        x2 = Tensor.allocate(d, s);
        dx = Tensor.allocate(d, s);
        cat = Tensor.allocate(d, b, 2 * c, h, w);
        up = Tensor.allocate(d, b, c, 2 * h, 2 * w);
        upGrad = Tensor.allocate(d, b, c, 2 * h, 2 * w);
        e = Tensor.allocate(d, b, c);
        de = Tensor.allocate(d, b, c);
        Rng.fillNormal(x, 1, 0);
        Rng.fillNormal(x2, 1, 1);
        Rng.fillNormal(upGrad, 1, 2);
        Rng.fillNormal(e, 1, 3);
        hostX = x.toArray();
        d.finish();
    }

    @TearDown
    public void tearDown() {
        for (Tensor t : new Tensor[]{x, x2, dx, cat, up, upGrad, e, de}) t.close();
    }

    @Benchmark
    public void upsample() {
        ShapeOps.upsampleNearest2x(up, x);
        d.finish();
    }

    @Benchmark
    public void upsampleBackward() {
        ShapeOps.upsampleNearest2xBackward(dx, upGrad);
        d.finish();
    }

    @Benchmark
    public void concat() {
        ShapeOps.concatChannels(cat, x, x2);
        d.finish();
    }

    @Benchmark
    public void split() {
        ShapeOps.splitChannels(dx, x2, cat);
        d.finish();
    }

    @Benchmark
    public void addBroadcast() {
        ShapeOps.addBroadcast(dx, x, e);
        d.finish();
    }

    @Benchmark
    public void addBroadcastBackward() {
        ShapeOps.addBroadcastBackward(null, de, x);
        d.finish();
    }

    @Benchmark
    public float[] upsampleWithTransfers() {
        x.upload(hostX);
        ShapeOps.upsampleNearest2x(up, x);
        return up.toArray();
    }
}
