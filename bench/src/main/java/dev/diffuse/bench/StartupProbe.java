package dev.diffuse.bench;

import java.lang.management.ManagementFactory;

import dev.diffuse.models.unet.UNet2DModel;
import dev.diffuse.models.unet.UNetConfig;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Devices;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.Tensor;

/**
 * Start-up of a fresh process (docs/gpu.md, program binary cache): milliseconds from JVM start to the first finished
 * kernel (device open, one program built or loaded, one launch) and to the first finished forward of the small U-Net
 * at batch 1 (every program of the forward). Run it once per process, with and without the cache:
 * <pre>
 *   java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Ddiffuse.cache=off \
 *        -cp bench/target/diffuse-benchmarks.jar dev.diffuse.bench.StartupProbe cl
 * </pre>
 */
public final class StartupProbe {
    private StartupProbe() {}

    public static void main(String[] args) {
        long jvm = ManagementFactory.getRuntimeMXBean().getStartTime();
        long main = System.currentTimeMillis();
        Device d = Devices.select(args.length > 0 ? args[0] : "cl");
        Tensor probe = Tensor.allocate(d, 1024);
        Rng.fillNormal(probe, 1, 0);
        d.finish();
        long first = System.currentTimeMillis();
        UNet2DModel m = new UNet2DModel(UNetConfig.small(), d, 1, false);
        m.initialize(1);
        Tensor x = Tensor.allocate(d, 1, 1, 28, 28), t = Tensor.allocate(d, 1), out = Tensor.allocate(d, 1, 1, 28, 28);
        m.forward(out, x, t);
        d.finish();
        long fwd = System.currentTimeMillis();
        System.out.printf("first-kernel-ms %d first-forward-ms %d (jvm start to main %d ms)%n", first - jvm, fwd - jvm, main - jvm);
    }
}
