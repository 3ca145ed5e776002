package dev.diffuse.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Predicate;

import dev.diffuse.bench.report.DevicePeaks;
import dev.diffuse.bench.report.OpCase;
import dev.diffuse.bench.report.OpsReport;
import dev.diffuse.bench.report.StandardCases;
import dev.diffuse.bench.roofline.Roofline;
import dev.diffuse.bench.sidebyside.SideBySide;
import dev.diffuse.bench.sidebyside.SideBySideCases;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Devices;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code diffuse bench}: the device's measured roofline (FMA rate, copy bandwidth) and the standard op set against
 * it, as a table, JSON and a PNG chart. {@code --roofline} and {@code --ops[=FILTER]} pick one part;
 * {@code --side-by-side} prints the Diffuse half of the PyTorch comparison as JSON lines.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Time the standard op set on a device: time, GB/s or GFLOP/s and share of the device's peak. The peaks are "
                + "measured (a Vector-API or OpenCL FMA loop and a copy of 2 x 256 MB) except for GPUs of the vendor table.",
                "With no mode flag: the roofline, then every op. For careful numbers use the JMH jar (bench/target/diffuse-benchmarks.jar)."})
public final class BenchCommand implements Callable<Integer> {
    @Option(names = "--roofline", description = "measure and print the device's roofline only (FMA rate and copy bandwidth per thread count)")
    boolean roofline;

    @Option(names = "--ops", arity = "0..1", paramLabel = "FILTER", fallbackValue = "",
            description = "run the op report; FILTER keeps the ops whose name contains one of its comma-separated words, "
                    + "e.g. --ops=groupnorm,adamw (default: all ops)")
    String ops;

    @Option(names = "--side-by-side", arity = "0..1", paramLabel = "CASES", fallbackValue = "",
            description = "time the cases of the PyTorch comparison (bench/pytorch/side_by_side.sh) and print them as JSON lines; "
                    + "CASES keeps those whose name contains one of its comma-separated words, e.g. --side-by-side=unet,gemm")
    String sideBySide;

    @Option(names = "--model", defaultValue = "pretrained/fashion-mnist-small",
            description = "U-Net folder of the --side-by-side model cases (default ${DEFAULT-VALUE})")
    Path model;

    @Option(names = "--device", defaultValue = "auto", description = "auto | java | cl | cl:gpu | cl:cpu | cl:P:I")
    String device;

    @Option(names = "--quick", description = "only the small shapes, short timing (for CPUs and smoke tests)")
    boolean quick;

    @Option(names = "--out", defaultValue = "bench-out", description = "folder for ops.json and ops.png (default ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() throws Exception {
        Device d = Devices.select(device);
        if (sideBySide != null) {
            if (!java.nio.file.Files.isDirectory(model))
                throw new IllegalArgumentException("--model " + model + " is not a folder; give the U-Net folder (config.json + weights) "
                        + "of the side-by-side cases, e.g. pretrained/fashion-mnist-small");
            SideBySide.run(d, model, quick ? 0.3 : 1.5, filter(sideBySide, SideBySideCases.names(model)), System.out);
            return 0;
        }
        boolean runOps = ops != null || !roofline;
        Predicate<String> byName = filter(ops, cases().stream().map(OpCase::op).distinct().toList());
        Predicate<OpCase> select = c -> byName.test(c.op());
        List<OpCase> cases = cases();
        Roofline measured = DevicePeaks.vendorTable(d).isPresent() && !roofline ? null : Roofline.of(d);
        if (measured != null) measured.print(System.out);
        if (!runOps) return 0;
        DevicePeaks peaks = DevicePeaks.vendorTable(d).orElseGet(() -> DevicePeaks.measured(measured));
        var rows = OpsReport.run(d, peaks, cases, quick, select, System.out);
        OpsReport.writeJson(out.resolve("ops.json"), d, peaks, measured, rows);
        OpsReport.writeChart(out.resolve("ops.png"), d, rows);
        System.out.println("wrote " + out.resolve("ops.json") + " and " + out.resolve("ops.png"));
        return 0;
    }

    static List<OpCase> cases() { return StandardCases.all(); }

    /**
     * Names that contain one of the comma-separated words (case-insensitive); null or empty keeps all. A filter that
     * keeps none of {@code names} is refused with the list of names.
     */
    static Predicate<String> filter(String words, List<String> names) {
        if (words == null || words.isBlank()) return n -> true;
        List<String> w = Arrays.stream(words.split(",")).map(s -> s.strip().toLowerCase(Locale.ROOT)).filter(s -> !s.isEmpty()).toList();
        Predicate<String> p = n -> w.stream().anyMatch(n.toLowerCase(Locale.ROOT)::contains);
        if (names.stream().noneMatch(p))
            throw new IllegalArgumentException("'" + words + "' matches no name; the names are: " + String.join(", ", names));
        return p;
    }
}
