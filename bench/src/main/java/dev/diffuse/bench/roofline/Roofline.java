package dev.diffuse.bench.roofline;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.JavaDevice;

/**
 * A measured roofline of one device: the reachable FP32 FMA rate and the copy bandwidth, the ceilings every op's
 * "share of peak" is taken against. Measured, not looked up, because a CPU's figures depend on its clock (turbo),
 * its vector width and how many cores the JVM or PoCL really gets:
 * <ul>
 *   <li>Java device: {@link FmaChains} (independent FMA chains over {@code FloatVector.SPECIES_PREFERRED}) on 1..T
 *   threads, and {@code MemorySegment.copy} between off-heap buffers;</li>
 *   <li>OpenCL (e.g. PoCL): the kernels of {@code roofline.cl}, same idea, over the whole device.</li>
 * </ul>
 * Copy bandwidth counts bytes read plus bytes written (a copy of n bytes moves 2n), as the ops' work counts do.
 * It depends on the working set: the copy is measured at several sizes ({@link #copyBySize}), from cache-resident
 * to far beyond the last-level cache (DRAM, {@link #peakBytes}), and a memory-bound op is compared with the copy
 * of its own working-set size (an op on a 6 MB tensor, repeated, runs from cache; see the bench report's peaks).
 * Each figure is the best of several short trials: other load on the machine can only lower a trial.
 *
 * @param device             the device's name
 * @param fmaFlopsByThreads  FLOP/s with 1, 2, ... threads (one entry, the whole device, for OpenCL)
 * @param copyBytesByThreads DRAM copy bytes/s (the largest working set of {@code copyBySize}) with 1, 2, ... threads
 * @param copyBySize         copy bytes/s with all threads, by working set (both buffers), ascending
 * @param method             how the figures were measured, in words
 */
public record Roofline(String device, double[] fmaFlopsByThreads, double[] copyBytesByThreads, List<CopyPoint> copyBySize,
                       String method) {
    /** Working sets (source + destination) of the copy curve: 8 MB to 512 MB. */
    static final long[] WORKING_SETS = {8L << 20, 32L << 20, 128L << 20, 512L << 20};

    /** Copy bandwidth (bytes read + written per second) at one working set (bytes of both buffers). */
    public record CopyPoint(long workingSetBytes, double bytesPerSecond) {}

    /**
     * The curve with each point raised to the best of the larger working sets: a smaller working set can always be
     * copied at least as fast, so a lower figure there is a trial disturbed by other load.
     */
    static List<CopyPoint> monotone(List<CopyPoint> ascending) {
        CopyPoint[] p = ascending.toArray(CopyPoint[]::new);
        for (int i = p.length - 2; i >= 0; i--)
            if (p[i].bytesPerSecond() < p[i + 1].bytesPerSecond()) p[i] = new CopyPoint(p[i].workingSetBytes(), p[i + 1].bytesPerSecond());
        return List.of(p);
    }

    private static final Map<String, Roofline> CACHE = new ConcurrentHashMap<>();

    /** Measures (once per device and JVM; later calls return the same figures). */
    public static Roofline of(Device device) {
        return CACHE.computeIfAbsent(device.id(), id -> switch (device) {
            case JavaDevice j -> JavaRoofline.measure(j);
            case ClDevice c -> ClRoofline.measure(c);
        });
    }

    /** The reachable FP32 rate: the best over thread counts. */
    public double peakFlops() { return Arrays.stream(fmaFlopsByThreads).max().orElse(Double.NaN); }

    /** The DRAM copy bandwidth: the best over thread counts at the largest working set. */
    public double peakBytes() { return Arrays.stream(copyBytesByThreads).max().orElse(Double.NaN); }

    public void print(PrintStream out) {
        out.println("roofline of " + device + " (measured: " + method + ")");
        out.println("  FP32 FMA rate      " + perThreads(fmaFlopsByThreads, "GFLOP/s"));
        out.printf(Locale.ROOT, "  copy bandwidth     %s   (DRAM: working set %d MB, read + write)%n",
                perThreads(copyBytesByThreads, "GB/s"), copyBySize.getLast().workingSetBytes() >> 20);
        StringBuilder s = new StringBuilder();
        for (CopyPoint p : copyBySize)
            s.append(String.format(Locale.ROOT, "%s%d MB %.1f GB/s", s.isEmpty() ? "" : ", ", p.workingSetBytes() >> 20, p.bytesPerSecond() / 1e9));
        out.println("  copy by working set " + s + "   (a memory-bound op is compared with the copy of its own working set)");
    }

    private static String perThreads(double[] v, String unit) {
        if (v.length == 1) return String.format(Locale.ROOT, "%.1f %s", v[0] / 1e9, unit);
        StringBuilder s = new StringBuilder();
        for (int t = 0; t < v.length; t++)
            s.append(String.format(Locale.ROOT, "%s%d thread%s %.1f %s", t == 0 ? "" : ", ", t + 1, t == 0 ? "" : "s", v[t] / 1e9, unit));
        return s.toString();
    }
}
