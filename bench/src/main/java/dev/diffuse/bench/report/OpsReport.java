package dev.diffuse.bench.report;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import dev.diffuse.runtime.Device;

/**
 * {@code diffuse bench --ops}: times each {@link OpCase} on one device (warm-up, then the median of repeated runs,
 * each ending in {@code device.finish()}, host transfers excluded) and reports time, GB/s or GFLOP/s and the share of
 * the device's peak. This is a quick report; the JMH benchmarks in this module are the careful measurement.
 */
public final class OpsReport {
    /** One measured row. */
    public record Row(String op, String shape, double millis, double rate, String rateUnit, Double shareOfPeak) {}

    private OpsReport() {}

    public static List<Row> run(Device device, List<OpCase> cases, boolean quick, java.io.PrintStream out) throws Exception {
        Optional<DevicePeaks> peaks = DevicePeaks.of(device);
        out.println("device: " + device.id() + "  " + device.name());
        out.println(peaks.map(p -> String.format(Locale.ROOT, "peaks:  %s, %.2f TB/s, %.1f TFLOP/s FP32", p.name(), p.bytesPerSecond() / 1e12, p.flopsPerSecond() / 1e12))
                .orElse("peaks:  unknown device, share of peak not reported"));
        out.printf(Locale.ROOT, "%-34s %-18s %12s %14s %8s%n", "op", "shape", "time", "rate", "peak");
        List<Row> rows = new ArrayList<>();
        double budget = quick ? 0.05 : 0.4;
        for (OpCase c : cases) {
            if (quick && !c.quick()) continue;
            OpCase.Prepared p = c.setup().prepare(device);
            try (AutoCloseable r = p.resources()) {
                double secs = time(device, p.action(), budget);
                double rate = c.work() / secs;
                String unit = c.unit() == OpCase.Unit.BYTE ? "GB/s" : "GFLOP/s";
                Double share = peaks.map(pk -> rate / pk.peak(c.unit())).orElse(null);
                Row row = new Row(c.op(), c.shape(), secs * 1e3, rate / 1e9, unit, share);
                rows.add(row);
                out.printf(Locale.ROOT, "%-34s %-18s %9.3f ms %8.1f %-7s %8s%n", c.op(), c.shape(), row.millis(), row.rate(), unit,
                        share == null ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * share));
            }
        }
        return rows;
    }

    /** Median seconds per call after a warm-up, repeating until about {@code budget} seconds have been spent. */
    static double time(Device d, Runnable action, double budget) {
        action.run();
        d.finish();
        long start = System.nanoTime();
        List<Double> samples = new ArrayList<>();
        while (samples.size() < 3 || (System.nanoTime() - start) / 1e9 < budget && samples.size() < 200) {
            long t0 = System.nanoTime();
            action.run();
            d.finish();
            samples.add((System.nanoTime() - t0) / 1e9);
        }
        double[] s = samples.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return s[s.length / 2];
    }

    public static void writeJson(Path path, Device device, List<Row> rows) throws IOException {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("device", device.id());
        doc.put("deviceName", device.name());
        doc.put("peaks", DevicePeaks.of(device).orElse(null));
        doc.put("rows", rows);
        Path abs = path.toAbsolutePath();
        if (abs.getParent() != null) java.nio.file.Files.createDirectories(abs.getParent());
        Path tmp = java.nio.file.Files.createTempFile(abs.getParent(), ".bench", ".json");
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(tmp.toFile(), doc);
        java.nio.file.Files.move(tmp, abs, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** A horizontal bar chart of each row's rate (or share of peak when the device is known). */
    public static void writeChart(Path path, Device device, List<Row> rows) throws IOException {
        boolean share = rows.stream().allMatch(r -> r.shareOfPeak() != null);
        var chart = new org.knowm.xchart.CategoryChartBuilder().width(1100).height(120 + 28 * Math.max(1, rows.size()))
                .title("diffuse bench --ops on " + device.name()).xAxisTitle("op @ shape")
                .yAxisTitle(share ? "% of peak" : "rate (GB/s or GFLOP/s)").build();
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setXAxisLabelRotation(60);
        List<String> names = rows.stream().map(r -> r.op() + " @ " + r.shape() + " [" + r.rateUnit() + "]").toList();
        List<Double> values = rows.stream().map(r -> share ? 100 * r.shareOfPeak() : r.rate()).toList();
        if (names.isEmpty()) {
            names = List.of("no rows");
            values = List.of(0.0);
        }
        chart.addSeries("rate", names, values);
        String file = path.toAbsolutePath().toString();
        org.knowm.xchart.BitmapEncoder.saveBitmap(chart, file.endsWith(".png") ? file.substring(0, file.length() - 4) : file,
                org.knowm.xchart.BitmapEncoder.BitmapFormat.PNG);
    }

    static String shapeOf(int... s) {
        return String.join("x", Arrays.stream(s).mapToObj(Integer::toString).toList());
    }
}
