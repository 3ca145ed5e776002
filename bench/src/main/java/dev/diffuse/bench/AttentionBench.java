package dev.diffuse.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.*;

import dev.diffuse.kernels.attention.Attention;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.Tensor;

/**
 * Attention core (softmax(scale Q K^T) V) forward and backward on (B, heads, N, D). Shapes: the small U-Net's
 * attention at 14x14 tokens (C = 64) and 7x7 tokens (C = 128), heads = 1, batch 1 and 64; the CIFAR U-Net's at
 * 16x16 tokens, C = 256, heads = 1, batch 128. Compute bound for these N: see {@link #forwardFlops}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class AttentionBench {
    @Param({"java", "cl"})
    public String device;

    /** (B, heads, N, D). */
    @Param({"1x1x196x64", "64x1x196x64", "1x1x49x128", "64x1x49x128", "128x1x256x256"})
    public String shape;

    /** Forward FLOPs: two GEMMs of B heads N^2 D multiply-adds each, 4 B heads N^2 D (softmax not counted). */
    public static double forwardFlops(int[] bhnd) {
        return 4.0 * bhnd[0] * bhnd[1] * (double) bhnd[2] * bhnd[2] * bhnd[3];
    }

    /**
     * Backward FLOPs by the flash-attention convention, 2.5 x forward (the four backward GEMMs plus recomputing S);
     * the OpenCL backward executes 3.5 x forward (its dQ pass recomputes S and dP again).
     */
    public static double backwardFlops(int[] bhnd) {
        return 2.5 * forwardFlops(bhnd);
    }

    private Device d;
    private int[] s;
    private float scale;
    private float[] hostQ, hostK, hostV;
    private Tensor q, k, v, o, lse, dO, dq, dk, dv, delta;

    @Setup
    public void setup() {
        d = BenchDevices.of(device);
        s = BenchDevices.shape(shape);
        scale = (float) (1 / Math.sqrt(s[3]));
        q = Tensor.allocate(d, s);
        k = Tensor.allocate(d, s);
        v = Tensor.allocate(d, s);
        o = Tensor.allocate(d, s);
        dO = Tensor.allocate(d, s);
        dq = Tensor.allocate(d, s);
        dk = Tensor.allocate(d, s);
        dv = Tensor.allocate(d, s);
        lse = Tensor.allocate(d, s[0], s[1], s[2]);
        delta = Tensor.allocate(d, s[0], s[1], s[2]);
        Rng.fillNormal(q, 1, 0);
        Rng.fillNormal(k, 1, 1);
        Rng.fillNormal(v, 1, 2);
        Rng.fillNormal(dO, 1, 3);
        Attention.forward(o, lse, q, k, v, scale);
        d.finish();
        hostQ = q.toArray();
        hostK = k.toArray();
        hostV = v.toArray();
    }

    @TearDown
    public void tearDown() {
        for (Tensor t : new Tensor[]{q, k, v, o, lse, dO, dq, dk, dv, delta}) t.close();
    }

    @Benchmark
    public void forward() {
        Attention.forward(o, lse, q, k, v, scale);
        d.finish();
    }

    @Benchmark
    public void backward() {
        Attention.backward(dq, dk, dv, dO, q, k, v, o, lse, delta, scale);
        d.finish();
    }

    /** Forward including uploading Q, K, V and reading O back. */
    @Benchmark
    public float[] forwardWithTransfers() {
        q.upload(hostQ);
        k.upload(hostK);
        v.upload(hostV);
        Attention.forward(o, lse, q, k, v, scale);
        return o.toArray();
    }
}
