package dev.diffuse.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.diffuse.bench.report.OpsReport;
import dev.diffuse.bench.report.StandardCases;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Devices;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code diffuse bench --ops}: the standard op set on one device, as a table, JSON and a PNG chart. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time the standard op set on a device: time, GB/s or GFLOP/s, share of the device's peak. "
                + "For careful numbers use the JMH jar (bench/target/diffuse-benchmarks.jar).")
public final class BenchCommand implements Callable<Integer> {
    @Option(names = "--ops", description = "run the op benchmarks (the only report today)", defaultValue = "true")
    boolean ops;

    @Option(names = "--device", defaultValue = "auto", description = "auto | java | cl | cl:gpu | cl:cpu | cl:P:I")
    String device;

    @Option(names = "--quick", description = "only the small shapes, short timing (for CPUs and smoke tests)")
    boolean quick;

    @Option(names = "--out", defaultValue = "bench-out", description = "folder for ops.json and ops.png (default ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() throws Exception {
        Device d = Devices.select(device);
        var rows = OpsReport.run(d, StandardCases.all(), quick, System.out);
        OpsReport.writeJson(out.resolve("ops.json"), d, rows);
        OpsReport.writeChart(out.resolve("ops.png"), d, rows);
        System.out.println("wrote " + out.resolve("ops.json") + " and " + out.resolve("ops.png"));
        return 0;
    }
}
