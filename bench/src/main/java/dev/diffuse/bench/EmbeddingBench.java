package dev.diffuse.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.*;

import dev.diffuse.kernels.embedding.TimestepEmbedding;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Tensor;

/** Sinusoidal timestep embedding (B, dim): tiny, launch-latency bound; bytes per call {@link #bytes}. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class EmbeddingBench {
    @Param({"java", "cl"})
    public String device;

    /** batch x dim: small U-Net (64 x 32), CIFAR U-Net (128 x 128). */
    @Param({"64x32", "128x128"})
    public String shape;

    private Device d;
    private Tensor t, out;
    private float[] hostT;

    /** Reads B timesteps, writes B*dim floats. */
    public static double bytes(int[] s) { return TimestepEmbedding.bytesMoved(s[0], s[1]); }

    @Setup
    public void setup() {
        d = BenchDevices.of(device);
        int[] s = BenchDevices.shape(shape);
        hostT = new float[s[0]];
        for (int i = 0; i < s[0]; i++) hostT[i] = (i * 7919) % 1000;
        t = Tensor.of(d, hostT, s[0]);
        out = Tensor.allocate(d, s[0], s[1]);
        d.finish();
    }

    @TearDown
    public void tearDown() {
        t.close();
        out.close();
    }

    @Benchmark
    public void sinusoidal() {
        TimestepEmbedding.sinusoidal(out, t, true, 0f);
        d.finish();
    }

    @Benchmark
    public float[] sinusoidalWithTransfers() {
        t.upload(hostT);
        TimestepEmbedding.sinusoidal(out, t, true, 0f);
        return out.toArray();
    }
}
