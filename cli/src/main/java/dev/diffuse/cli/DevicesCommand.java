package dev.diffuse.cli;

import java.util.concurrent.Callable;

import dev.diffuse.runtime.ClDeviceInfo;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Devices;
import dev.diffuse.runtime.JavaDevice;
import picocli.CommandLine.Command;

/** Lists every OpenCL platform and device with the limits kernels are tuned by, and says what {@code auto} picks. */
@Command(name = "devices", mixinStandardHelpOptions = true, description = "List OpenCL platforms/devices and the Java device; say which one 'auto' picks.")
public final class DevicesCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        var all = Devices.openCl();
        if (all.isEmpty()) System.out.println("OpenCL: none (" + Devices.openClProblem() + ")");
        String lastPlatform = null;
        for (ClDeviceInfo i : all) {
            if (!i.platformName().equals(lastPlatform)) {
                System.out.printf("platform %d: %s (%s)%n", i.platformIndex(), i.platformName(), i.platformVersion());
                lastPlatform = i.platformName();
            }
            System.out.printf("  %s  %s  [%s]%n", i.id(), i.name(), i.isGpu() ? "GPU" : "CPU/other");
            System.out.printf("      vendor %s, driver %s, %s, %s%n", i.vendor(), i.driverVersion(), i.deviceVersion(), i.openclCVersion());
            System.out.printf("      compute units %d @ %d MHz, max work-group %d, local memory %d KiB, global memory %.1f GiB (max alloc %.1f GiB)%n",
                    i.computeUnits(), i.maxClockMHz(), i.maxWorkGroup(), i.localMemBytes() / 1024, i.globalMemBytes() / 1073741824.0,
                    i.maxAllocBytes() / 1073741824.0);
            System.out.printf("      fp64 %s, sub-buffer alignment %d B, extensions of note: %s%n", i.fp64() ? "yes" : "no",
                    i.baseAddrAlignBytes(), i.notableExtensions().isEmpty() ? "none" : String.join(" ", i.notableExtensions()));
        }
        System.out.println("java  " + JavaDevice.get().name());
        Device auto = Devices.select("auto");
        System.out.println("auto -> " + auto.id() + " (" + auto.name() + ")");
        return 0;
    }
}
