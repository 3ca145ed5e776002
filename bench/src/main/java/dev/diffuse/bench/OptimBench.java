package dev.diffuse.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.*;

import dev.diffuse.kernels.optim.Optim;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.Tensor;

/**
 * Optimizer step over one parameter slab of {@code n} floats: 35,746,307 (the CIFAR DDPM U-Net) and 2,000,000
 * (a small U-Net). All memory bound: bytes per element {@link Optim#ADAMW_BYTES_PER_ELEMENT} (AdamW),
 * {@link Optim#EMA_BYTES_PER_ELEMENT} (EMA), {@link Optim#GRADNORM_BYTES_PER_ELEMENT} (grad norm);
 * {@code clippedStep} is grad norm + AdamW = 32 bytes per element.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class OptimBench {
    @Param({"java", "cl"})
    public String device;

    @Param({"35746307", "2000000"})
    public int n;

    private Device d;
    private Tensor p, g, m, v, ema, norm, clip;
    private float[] hostGrad;
    private int step;
    private final Optim.AdamWConfig cfg = Optim.AdamWConfig.torchDefaults(1e-4);

    /** Bytes moved by one call of benchmark {@code name} ("adamw", "ema", "gradNorm", "clippedStep") over n floats. */
    public static double bytes(String name, long n) {
        int per = switch (name) {
            case "adamw", "adamwWithTransfers" -> Optim.ADAMW_BYTES_PER_ELEMENT;
            case "ema" -> Optim.EMA_BYTES_PER_ELEMENT;
            case "gradNorm" -> Optim.GRADNORM_BYTES_PER_ELEMENT;
            case "clippedStep" -> Optim.ADAMW_BYTES_PER_ELEMENT + Optim.GRADNORM_BYTES_PER_ELEMENT;
            default -> throw new IllegalArgumentException("unknown benchmark " + name);
        };
        return (double) per * n;
    }

    @Setup
    public void setup() {
        d = BenchDevices.of(device);
        p = Tensor.allocate(d, n);
        g = Tensor.allocate(d, n);
        m = Tensor.allocate(d, n);
        v = Tensor.allocate(d, n);
        ema = Tensor.allocate(d, n);
        norm = Tensor.allocate(d, 1);
        clip = Tensor.allocate(d, 1);
        Rng.fillNormal(p, 1, 0);
        Rng.fillNormal(g, 1, 1);
        ema.copyFrom(p);
        hostGrad = g.toArray();
        d.finish();
    }

    @TearDown
    public void tearDown() {
        for (Tensor t : new Tensor[]{p, g, m, v, ema, norm, clip}) t.close();
    }

    @Benchmark
    public void adamw() {
        Optim.adamw(p, m, v, g, null, 1f, cfg, ++step);
        d.finish();
    }

    @Benchmark
    public void clippedStep() {
        Optim.gradNorm(norm, clip, g, 1f, 1f);
        Optim.adamw(p, m, v, g, clip, 1f, cfg, ++step);
        d.finish();
    }

    @Benchmark
    public void gradNorm() {
        Optim.gradNorm(norm, clip, g, 1f, 1f);
        d.finish();
    }

    @Benchmark
    public void ema() {
        Optim.ema(ema, p, 0.9999);
        d.finish();
    }

    /** Uploads the gradient slab, steps, and reads the clip scale back (one float). */
    @Benchmark
    public float adamwWithTransfers() {
        g.upload(hostGrad);
        Optim.gradNorm(norm, clip, g, 1f, 1f);
        Optim.adamw(p, m, v, g, clip, 1f, cfg, ++step);
        return clip.get(0);
    }
}
