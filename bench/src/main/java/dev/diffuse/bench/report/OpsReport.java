package dev.diffuse.bench.report;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import dev.diffuse.bench.roofline.Roofline;
import dev.diffuse.runtime.Device;

/**
 * {@code diffuse bench --ops}: times each {@link OpCase} on one device (warm-up, then the median of repeated runs,
 * each ending in {@code device.finish()}, host transfers excluded) and reports time, GB/s or GFLOP/s and the share of
 * the device's peak. This is a quick report; the JMH benchmarks in this module are the careful measurement.
 */
public final class OpsReport {
    /** One measured row: rate and ceiling in GB/s or GFLOP/s ({@code rateUnit}), share = rate / ceiling. */
    public record Row(String op, String shape, double millis, double rate, String rateUnit, Double shareOfPeak, double ceiling) {}

    private OpsReport() {}

    /**
     * Times every case that {@code select} accepts (and, with {@code quick}, only the small ones) against
     * {@code peaks} (see {@link DevicePeaks#of}).
     */
    public static List<Row> run(Device device, DevicePeaks peaks, List<OpCase> cases, boolean quick, Predicate<OpCase> select,
                                java.io.PrintStream out) throws Exception {
        out.println("device: " + device.id() + "  " + device.name());
        out.println(peaks.describe());
        out.printf(Locale.ROOT, "%-34s %-18s %12s %14s %8s %9s%n", "op", "shape", "time", "rate", "peak", "of");
        List<Row> rows = new ArrayList<>();
        double budget = quick ? 0.1 : 0.4;
        for (OpCase c : cases) {
            if (quick && !c.quick() || !select.test(c)) continue;
            OpCase.Prepared p = c.setup().prepare(device);
            try (AutoCloseable r = p.resources()) {
                double secs = time(device, p.action(), budget);
                double rate = c.work() / secs;
                String unit = c.unit() == OpCase.Unit.BYTE ? "GB/s" : "GFLOP/s";
                double ceiling = peaks.ceiling(c.unit(), c.work());
                Row row = new Row(c.op(), c.shape(), secs * 1e3, rate / 1e9, unit, rate / ceiling, ceiling / 1e9);
                rows.add(row);
                out.printf(Locale.ROOT, "%-34s %-18s %9.3f ms %8.1f %-7s %7.1f%% %9.1f%n", c.op(), c.shape(), row.millis(), row.rate(), unit,
                        100 * row.shareOfPeak(), row.ceiling());
            }
        }
        return rows;
    }

    /**
     * Median seconds per call, repeating until about {@code budget} seconds have been spent, after a warm-up of the
     * same length (at least 3 calls): a Java op runs in the interpreter, 10-100x slower, until C2 has compiled it.
     */
    public static double time(Device d, Runnable action, double budget) {
        long warm = System.nanoTime();
        for (int i = 0; i < 3 || (System.nanoTime() - warm) / 1e9 < budget && i < 1000; i++) {
            action.run();
            d.finish();
        }
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

    /** ops.json: the device, the peaks the shares were taken against, the measured roofline (null if not measured), the rows. */
    public static void writeJson(Path path, Device device, DevicePeaks peaks, Roofline roofline, List<Row> rows) throws IOException {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("device", device.id());
        doc.put("deviceName", device.name());
        doc.put("peaks", peaks);
        doc.put("roofline", roofline);
        doc.put("rows", rows);
        Path abs = path.toAbsolutePath();
        if (abs.getParent() != null) java.nio.file.Files.createDirectories(abs.getParent());
        Path tmp = java.nio.file.Files.createTempFile(abs.getParent(), ".bench", ".json");
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(tmp.toFile(), doc);
        java.nio.file.Files.move(tmp, abs, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** A bar chart of each row's share of peak. */
    public static void writeChart(Path path, Device device, List<Row> rows) throws IOException {
        boolean share = rows.stream().allMatch(r -> r.shareOfPeak() != null && Double.isFinite(r.shareOfPeak()));
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
