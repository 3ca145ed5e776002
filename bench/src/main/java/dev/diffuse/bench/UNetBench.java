package dev.diffuse.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.*;

import dev.diffuse.models.unet.UNet2DModel;
import dev.diffuse.models.unet.UNetConfig;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.Tensor;

/**
 * Whole U-Net: forward of small() (Fashion-MNIST 28x28x1) at batch 1 and 64 and of ddpmCifar10() at batch 64, and
 * a training step's model part (forward + backward with dx skipped) of small() at batch 128. Weights are random
 * (PyTorch's default init); the time is independent of the values. {@link #flops} turns a time into GFLOP/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class UNetBench {
    /**
     * FLOPs of one call: forward {@link UNet2DModel#forwardFlops}; a forward + backward counts 3x the forward
     * (the backward computes dx and dW for every conv/linear: twice the forward's products).
     * @param model "small" or "cifar"
     */
    public static double flops(String model, int batch, boolean backward) {
        double f = UNet2DModel.forwardFlops(config(model), batch);
        return backward ? 3 * f : f;
    }

    static UNetConfig config(String model) {
        return switch (model) {
            case "small" -> UNetConfig.small();
            case "cifar" -> UNetConfig.ddpmCifar10();
            default -> throw new IllegalArgumentException("model must be small or cifar, got " + model);
        };
    }

    /** One model with inputs; {@code train} builds gradients and backward scratch. */
    static final class Setup {
        final Device d;
        final UNet2DModel m;
        final Tensor x, t, out, dOut;

        Setup(String device, String model, int batch, boolean train) {
            d = BenchDevices.of(device);
            m = new UNet2DModel(config(model), d, batch, train);
            m.initialize(1);
            int[] s = m.sampleShape();
            x = Tensor.allocate(d, batch, s[0], s[1], s[2]);
            t = Tensor.allocate(d, batch);
            out = Tensor.allocate(d, batch, m.config().outChannels(), s[1], s[2]);
            dOut = Tensor.allocate(d, out.shape());
            Rng.fillNormal(x, 1, 0);
            Rng.fillNormal(dOut, 1, 1);
            float[] ts = new float[batch];
            for (int i = 0; i < batch; i++) ts[i] = (i * 37) % 1000;
            t.upload(ts);
            d.finish();
        }

        void close() {
            x.close();
            t.close();
            out.close();
            dOut.close();
            m.close();
        }
    }

    @State(Scope.Benchmark)
    public static class Forward {
        @Param({"java", "cl"})
        public String device;

        /** model:batch */
        @Param({"small:1", "small:64", "cifar:64"})
        public String shape;

        Setup s;

        @org.openjdk.jmh.annotations.Setup
        public void setup() {
            String[] p = shape.split(":");
            s = new Setup(device, p[0], Integer.parseInt(p[1]), false);
        }

        @TearDown
        public void tearDown() { s.close(); }
    }

    @State(Scope.Benchmark)
    public static class Train {
        @Param({"java", "cl"})
        public String device;

        @Param({"small:128"})
        public String shape;

        Setup s;

        @org.openjdk.jmh.annotations.Setup
        public void setup() {
            String[] p = shape.split(":");
            s = new Setup(device, p[0], Integer.parseInt(p[1]), true);
        }

        @TearDown
        public void tearDown() { s.close(); }
    }

    @Benchmark
    public void forward(Forward f) {
        f.s.m.forward(f.s.out, f.s.x, f.s.t);
        f.s.d.finish();
    }

    /** Forward with the input upload and output read-back a sampler would not do (it keeps x on the device). */
    @Benchmark
    public float[] forwardWithTransfers(Forward f) {
        f.s.x.upload(new float[(int) f.s.x.numel()]);
        f.s.m.forward(f.s.out, f.s.x, f.s.t);
        return f.s.out.toArray();
    }

    @Benchmark
    public void forwardBackward(Train tr) {
        Setup s = tr.s;
        s.m.zeroGradients();
        s.m.forward(s.out, s.x, s.t);
        s.m.backward(s.dOut, null);
        s.d.finish();
    }
}
