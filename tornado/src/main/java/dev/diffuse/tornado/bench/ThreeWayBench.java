package dev.diffuse.tornado.bench;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

import dev.diffuse.bench.report.OpCase;
import dev.diffuse.bench.report.StandardCases;
import dev.diffuse.models.unet.UNet2DModel;
import dev.diffuse.models.unet.UNetCheckpoint;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Philox;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.tornado.ParamPack;
import dev.diffuse.tornado.UNetForwardTornado;

/**
 * The three-way comparison: each U-Net op at the small U-Net's shapes (batch 64) and the whole U-Net forward of a
 * model folder, on the Java device, on the hand-written OpenCL kernels ({@code ClDevice}) and on the TornadoVM
 * kernels, the last two on the same OpenCL device. Time is the median of repeated runs after a warm-up (each Java/OpenCL
 * run ends in {@code Device.finish()}; a TornadoVM plan execution returns when its kernels are done; data stays on
 * the device); rate is the op's compulsory work (FLOPs, or bytes moved for memory-bound ops, as the bench report counts
 * them) per second, and share of peak is against the CPU's FP32 peak or copy bandwidth. TornadoVM's first call is
 * its first plan execution: Graal compiling the task to OpenCL C, the driver building it, and one run.
 */
public final class ThreeWayBench {
    /** FP32 peak and copy bandwidth of the work machine's CPU (2 cores, AVX-512, 2.6 GHz; see DESIGN.md §3b). */
    public record Peaks(String name, double flops, double bytesPerSecond) {
        public static final Peaks WORK_MACHINE_CPU = new Peaks("2-core AVX-512 CPU at 2.6 GHz", 333e9, 21.6e9);
    }

    /** One measured row; times in milliseconds (NaN: not run). */
    public record Row(String op, String shape, OpCase.Unit unit, double work, double javaMs, double clMs, double tornadoMs,
                      double tornadoFirstMs) {}

    private ThreeWayBench() {}

    /** The op rows: the report cases that the TornadoVM kernels cover, in the report's order. */
    public static List<Row> ops(Device cl, double budgetSeconds, PrintStream log) throws Exception {
        Map<String, Supplier<TornadoOpCases.Prepared>> tv = TornadoOpCases.all();
        List<Row> rows = new ArrayList<>();
        for (OpCase c : StandardCases.all()) {
            String key = c.op() + " @ " + c.shape();
            if (!tv.containsKey(key)) continue;
            double j = time(JavaDevice.get(), c, budgetSeconds), o = time(cl, c, budgetSeconds);
            for (String variant : new String[]{"", TornadoOpCases.KERNEL_CONTEXT}) {
                Supplier<TornadoOpCases.Prepared> t = tv.get(variant + key);
                if (t == null) continue;
                double first, steady;
                try (TornadoOpCases.Prepared p = t.get()) {
                    long t0 = System.nanoTime();
                    p.run();
                    first = (System.nanoTime() - t0) / 1e6;
                    steady = median(p::run, budgetSeconds);
                }
                Row r = new Row(variant + c.op(), c.shape(), c.unit(), c.work(), j, o, steady, first);
                log.printf(Locale.ROOT, "  %-32s %-20s java %9.3f ms   opencl %9.3f ms   tornado %9.3f ms (first call %.0f ms)%n",
                        r.op(), r.shape(), j, o, steady, first);
                rows.add(r);
            }
        }
        if (rows.size() != tv.size())
            throw new IllegalStateException("three-way bench: " + (tv.size() - rows.size()) + " TornadoVM cases have no report case "
                    + "of the same op and shape (renamed in bench.report?): " + tv.keySet());
        return rows;
    }

    /** The whole U-Net forward of the model in {@code dir} at {@code batch} on the three executors. */
    public static Row unetForward(Path dir, int batch, Device cl, double budgetSeconds, PrintStream log) throws Exception {
        double[] ms = new double[2];
        Device[] devices = {JavaDevice.get(), cl};
        float[] x = new float[0], t = new float[batch];
        for (int d = 0; d < 2; d++) {
            try (UNet2DModel m = UNetCheckpoint.load(dir, devices[d], batch, false)) {
                int[] s = m.sampleShape();
                x = new float[batch * s[0] * s[1] * s[2]];
                Philox.normals(1, 0, 0, x, 0, x.length);
                Arrays.fill(t, 500f);
                try (Tensor tx = Tensor.of(devices[d], x, batch, s[0], s[1], s[2]); Tensor tt = Tensor.of(devices[d], t, batch);
                     Tensor out = Tensor.allocate(devices[d], batch, m.config().outChannels(), s[1], s[2])) {
                    Device dev = devices[d];
                    ms[d] = medianWarm(() -> { m.forward(out, tx, tt, null); dev.finish(); }, budgetSeconds);
                }
            }
        }
        double first, steady;
        try (UNet2DModel host = UNetCheckpoint.load(dir, JavaDevice.get(), 1, false);
             UNetForwardTornado f = new UNetForwardTornado(host.config(), ParamPack.weightsOf(host), batch)) {
            long t0 = System.nanoTime();
            f.forward(x, t, null);
            first = (System.nanoTime() - t0) / 1e6;
            steady = median(f::execute, budgetSeconds);
            log.printf(Locale.ROOT, "  U-Net forward: %d TornadoVM tasks in %d graphs%n", f.taskCount(), f.graphCount());
        }
        String shape = "batch " + batch + ", " + dir.getFileName();
        double flops = UNet2DModel.forwardFlops(UNetCheckpoint.readConfig(dir), batch);
        Row r = new Row("U-Net forward", shape, OpCase.Unit.FLOP, flops, ms[0], ms[1], steady, first);
        log.printf(Locale.ROOT, "  %-32s %-20s java %9.3f ms   opencl %9.3f ms   tornado %9.3f ms (first call %.0f ms)%n",
                r.op(), r.shape(), ms[0], ms[1], steady, first);
        return r;
    }

    private static double time(Device d, OpCase c, double budget) throws Exception {
        OpCase.Prepared p = c.setup().prepare(d);
        try (AutoCloseable r = p.resources()) {
            return medianWarm(() -> { p.action().run(); d.finish(); }, budget);
        }
    }

    /** One warm-up run, then {@link #median}. */
    private static double medianWarm(Runnable run, double budget) {
        run.run();
        return median(run, budget);
    }

    /** Median milliseconds of at least 3 runs, more while the budget lasts (at most 50). */
    private static double median(Runnable run, double budget) {
        List<Double> ms = new ArrayList<>();
        long start = System.nanoTime();
        while (ms.size() < 3 || (System.nanoTime() - start) / 1e9 < budget && ms.size() < 50) {
            long t0 = System.nanoTime();
            run.run();
            ms.add((System.nanoTime() - t0) / 1e6);
        }
        double[] s = ms.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return s[s.length / 2];
    }

    /** The table as Markdown: per executor time, rate and share of peak, plus TornadoVM's first call. */
    public static void markdown(List<Row> rows, Peaks peaks, String devices, PrintStream out) {
        out.println("Devices: " + devices + ". Peaks: " + peaks.name() + ", FP32 " + Math.round(peaks.flops() / 1e9)
                + " GFLOP/s, copy " + peaks.bytesPerSecond() / 1e9 + " GB/s.");
        out.println();
        out.println("| op | shape | Java device | hand-written OpenCL | TornadoVM | TornadoVM / OpenCL time | TornadoVM first call |");
        out.println("|---|---|---|---|---|---|---|");
        for (Row r : rows) {
            out.printf(Locale.ROOT, "| %s | %s | %s | %s | %s | %.2fx | %.0f ms |%n", r.op(), r.shape(), cell(r, r.javaMs(), peaks),
                    cell(r, r.clMs(), peaks), cell(r, r.tornadoMs(), peaks), r.tornadoMs() / r.clMs(), r.tornadoFirstMs());
        }
    }

    private static String cell(Row r, double ms, Peaks p) {
        boolean flop = r.unit() == OpCase.Unit.FLOP;
        double rate = r.work() / (ms / 1e3), peak = flop ? p.flops() : p.bytesPerSecond();
        return String.format(Locale.ROOT, "%s ms, %.1f %s (%.1f%%)", ms >= 100 ? String.format(Locale.ROOT, "%.0f", ms)
                : String.format(Locale.ROOT, "%.2f", ms), rate / 1e9, flop ? "GFLOP/s" : "GB/s", 100 * rate / peak);
    }
}
