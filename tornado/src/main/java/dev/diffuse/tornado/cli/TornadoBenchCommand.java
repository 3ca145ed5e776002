package dev.diffuse.tornado.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Devices;
import dev.diffuse.tornado.bench.ThreeWayBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code diffuse bench --device tornado}: the three-way table (Java device, hand-written OpenCL, TornadoVM on the same
 * OpenCL device) per U-Net op and for the whole U-Net forward, with TornadoVM's first-call time.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time each U-Net op and the U-Net forward on the Java device, the hand-written OpenCL kernels and the TornadoVM kernels.")
public final class TornadoBenchCommand implements Callable<Integer> {
    @Option(names = "--device", defaultValue = "tornado", description = "tornado (this executor)")
    String device;

    @Option(names = "--opencl", defaultValue = "cl", description = "the OpenCL device of the hand-written column: cl | cl:cpu | cl:P:I (default ${DEFAULT-VALUE})")
    String opencl;

    @Option(names = "--model", defaultValue = "pretrained/fashion-mnist-small", description = "model folder for the U-Net forward row (default ${DEFAULT-VALUE})")
    Path model;

    @Option(names = "--batch", defaultValue = "4", description = "batch of the U-Net forward row (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--budget", defaultValue = "1", description = "seconds of repeated runs per op and executor after the warm-up (default ${DEFAULT-VALUE})")
    double budget;

    @Option(names = "--no-unet", description = "skip the whole U-Net forward row")
    boolean noUnet;

    @Override
    public Integer call() throws Exception {
        if (!device.equals("tornado"))
            throw new IllegalArgumentException("this is the TornadoVM executor's bench (--device tornado); for --device " + device + " run diffuse without it");
        if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        Device cl = Devices.select(opencl);
        String devices = "Java device (" + dev.diffuse.runtime.JavaDevice.get().name() + "); OpenCL " + cl.id() + " (" + cl.name()
                + "); TornadoVM on " + TornadoCommand.deviceName();
        System.out.println(devices);
        List<ThreeWayBench.Row> rows = new ArrayList<>(ThreeWayBench.ops(cl, budget, System.out));
        if (!noUnet) rows.add(ThreeWayBench.unetForward(dev.diffuse.models.unet.UNetCheckpoint.modelFolder(model), batch, cl, budget, System.out));
        System.out.println();
        ThreeWayBench.markdown(rows, ThreeWayBench.Peaks.WORK_MACHINE_CPU, devices, System.out);
        return 0;
    }
}
