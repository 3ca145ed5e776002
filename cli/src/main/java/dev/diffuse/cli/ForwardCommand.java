package dev.diffuse.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

import dev.diffuse.models.unet.UNetForward;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Devices;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code diffuse forward}: one U-Net forward on tensors from a safetensors file, the output written to another. */
@Command(name = "forward", mixinStandardHelpOptions = true,
        description = "Run one UNet2DModel forward: reads tensors 'sample' (B,C,H,W), 'timestep' (B) and optional 'class_labels' (B) "
                + "from --input and writes 'output' to --out.")
public final class ForwardCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "diffusers UNet2DModel folder (flat or with unet/) or a checkpoint")
    Path model;

    @Option(names = "--input", required = true, description = "safetensors file with sample, timestep[, class_labels]")
    Path input;

    @Option(names = "--out", required = true, description = "safetensors file to write (atomically) with 'output'")
    Path out;

    @Option(names = "--device", defaultValue = "auto", description = "auto | java | cl | cl:gpu | cl:cpu | cl:P:I")
    String device;

    @Override
    public Integer call() throws Exception {
        Device d = Devices.select(device);
        long t0 = System.nanoTime();
        int[] shape = UNetForward.run(Models.resolve(model), input, out, d);
        System.out.printf("device: %s%nwrote output %s to %s in %.3f s%n", d.id(), Arrays.toString(shape), out, (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
