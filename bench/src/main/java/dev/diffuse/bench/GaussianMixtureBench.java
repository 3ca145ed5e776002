package dev.diffuse.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.*;

import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.samplers.Denoiser.NoiseLevel;
import dev.diffuse.samplers.Denoiser.Prediction;
import dev.diffuse.samplers.gmm.GaussianMixture;
import dev.diffuse.samplers.gmm.GaussianMixtureDenoiser;
import dev.diffuse.samplers.gmm.MixturePresets;

/**
 * The exact Gaussian-mixture denoiser (one sampler step's model call) on a batch of N rows: compute bound,
 * {@link #flops} per call. Presets: ring8 (d = 2, K = 8), gmm16d and gmm64d (K = 6).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class GaussianMixtureBench {
    @Param({"java", "cl"})
    public String device;

    @Param({"ring8", "gmm16d", "gmm64d"})
    public String preset;

    @Param({"65536"})
    public int rows;

    private Device d;
    private GaussianMixture mixture;
    private GaussianMixtureDenoiser den;
    private Tensor x, out, logp;
    private float[] host;
    private final NoiseLevel level = new NoiseLevel(0.8, 0.6, 0);

    /**
     * Floating-point operations of one predict call: per row and component, y = U^T (x - s mu) and U z cost 2 d^2
     * multiply-adds each (4 d^2 flops together) plus about 8 d for v, z, quad and the log-determinant.
     */
    public static double flops(int d, int k, int rows) {
        return (double) rows * k * (4.0 * d * d + 8.0 * d);
    }

    @Setup
    public void setup() {
        d = BenchDevices.of(device);
        mixture = MixturePresets.byName(preset);
        den = new GaussianMixtureDenoiser(mixture, d, Prediction.EPSILON);
        host = mixture.noised(level.scale(), level.sigma()).sample(rows, 1);
        x = Tensor.of(d, host, rows, mixture.dim());
        out = Tensor.allocate(d, rows, mixture.dim());
        logp = Tensor.allocate(d, rows);
        d.finish();
    }

    @TearDown
    public void tearDown() {
        x.close();
        out.close();
        logp.close();
        den.close();
    }

    @Benchmark
    public void predictEpsilon() {
        den.predict(out, x, level);
        d.finish();
    }

    @Benchmark
    public void logDensity() {
        den.logDensity(logp, x, level.scale(), level.sigma());
        d.finish();
    }

    @Benchmark
    public float[] predictEpsilonWithTransfers() {
        x.upload(host);
        den.predict(out, x, level);
        return out.toArray();
    }
}
