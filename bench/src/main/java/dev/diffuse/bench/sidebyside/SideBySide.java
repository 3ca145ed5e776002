package dev.diffuse.bench.sidebyside;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.diffuse.bench.report.DevicePeaks;
import dev.diffuse.bench.report.OpCase;
import dev.diffuse.bench.report.OpsReport;
import dev.diffuse.bench.roofline.Roofline;
import dev.diffuse.runtime.Device;

/**
 * The Diffuse half of the side-by-side benchmark against PyTorch ({@code bench/pytorch/side_by_side.sh}): the cases
 * of issue 9's table ({@link SideBySideCases}) timed on one device, printed as JSON lines that the script merges
 * with PyTorch's. First line: the device's peaks; then one line per case:
 * <pre>
 *   {"engine":"diffuse","kind":"peaks","device":"...","flops":4.0e11,"bytes":3.3e10,"copyBySize":[...]}
 *   {"engine":"diffuse","kind":"case","case":"unet_fwd_b64","ms":512.3,"work":4.04e10,"unit":"FLOP","ceiling":4.0e11,
 *    "threads":2,"shape":"..."}
 * </pre>
 * ms is the median of timed calls after a warm-up (Java code runs slowly until C2 has compiled it; see
 * {@link OpsReport#time}); work is FLOPs or compulsory bytes per call, ceiling the peak the share is taken against
 * ({@link DevicePeaks#ceiling}), the same for both engines.
 */
public final class SideBySide {
    private SideBySide() {}

    /** Runs the cases whose name {@code select} accepts, with about {@code budget} seconds of timing each. */
    public static void run(Device device, Path model, double budget, Predicate<String> select, PrintStream out) throws Exception {
        ObjectMapper json = new ObjectMapper();
        Roofline r = Roofline.of(device);
        DevicePeaks peaks = DevicePeaks.of(device);
        Map<String, Object> head = new LinkedHashMap<>();
        head.put("engine", "diffuse");
        head.put("kind", "peaks");
        head.put("device", device.name());
        head.put("flops", peaks.flopsPerSecond());
        head.put("bytes", peaks.bytesPerSecond());
        head.put("copyBySize", peaks.copyBySize());
        head.put("fmaFlopsByThreads", r.fmaFlopsByThreads());
        out.println(json.writeValueAsString(head));
        List<SideBySideCases.Case> cases = new ArrayList<>(SideBySideCases.all(model));
        for (SideBySideCases.Case c : cases) {
            if (!select.test(c.name())) continue;
            OpCase.Prepared p = c.setup().prepare(device);
            try (AutoCloseable ignored = p.resources()) {
                double secs = OpsReport.time(device, p.action(), budget);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("engine", "diffuse");
                row.put("kind", "case");
                row.put("case", c.name());
                row.put("shape", c.shape());
                row.put("ms", secs * 1e3);
                row.put("work", c.work());
                row.put("unit", c.unit().name());
                row.put("ceiling", peaks.ceiling(c.unit(), c.work()));
                out.println(json.writeValueAsString(row));
                out.flush();
            }
        }
    }
}
