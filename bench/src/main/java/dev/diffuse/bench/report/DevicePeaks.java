package dev.diffuse.bench.report;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

import dev.diffuse.bench.roofline.Roofline;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Device;

/**
 * The peaks that turn GB/s and GFLOP/s into a share of peak. For the GPUs of the vendor table: bandwidth is the
 * measured copy bandwidth where we have it (what a memory-bound kernel can reach), FP32 the vendor's non-tensor
 * figure. For every other device (the Java device, PoCL and other CPUs, unknown GPUs): the measured
 * {@link Roofline}, whose copy bandwidth depends on the working set: a memory-bound op is compared with the copy of
 * the smallest measured working set that holds the bytes it moves ({@link #ceiling}).
 *
 * @param bytesPerSecond e.g. 2.8e12 for an H100 (PyTorch's measured copy; the data sheet says 3.35e12); for a
 *                       measured roofline the DRAM copy bandwidth
 * @param flopsPerSecond FP32, e.g. 67e12 for an H100 SXM
 * @param source         "vendor table" or "measured roofline"
 * @param copyBySize     the measured copy bandwidth by working set (empty for the vendor table)
 */
public record DevicePeaks(String name, double bytesPerSecond, double flopsPerSecond, String source, List<Roofline.CopyPoint> copyBySize) {

    /** The peaks for {@code d}: the vendor table for known GPUs, else its measured roofline (measured once per JVM). */
    public static DevicePeaks of(Device d) {
        return vendorTable(d).orElseGet(() -> measured(Roofline.of(d)));
    }

    /** Data-sheet figures of the GPUs we know by name. */
    public static Optional<DevicePeaks> vendorTable(Device d) {
        if (!(d instanceof ClDevice c) || !c.info().isGpu()) return Optional.empty();
        String n = d.name().toUpperCase(Locale.ROOT);
        if (n.contains("H100")) return Optional.of(vendor("NVIDIA H100 (SXM)", 2.8e12, 67e12));
        if (n.contains("H200")) return Optional.of(vendor("NVIDIA H200", 4.3e12, 67e12));
        if (n.contains("A100")) return Optional.of(vendor("NVIDIA A100", 1.7e12, 19.5e12));
        return Optional.empty();
    }

    private static DevicePeaks vendor(String name, double bytes, double flops) {
        return new DevicePeaks(name, bytes, flops, "vendor table", List.of());
    }

    public static DevicePeaks measured(Roofline r) {
        return new DevicePeaks(r.device(), r.peakBytes(), r.peakFlops(), "measured roofline", r.copyBySize());
    }

    /**
     * The ceiling of an op doing {@code work} of {@code unit}: the FMA rate for FLOPs; for bytes, the copy bandwidth
     * at the smallest measured working set >= work (an op moving work bytes per call touches about that many), or
     * the DRAM bandwidth beyond the largest.
     */
    public double ceiling(OpCase.Unit unit, double work) {
        if (unit == OpCase.Unit.FLOP) return flopsPerSecond;
        for (Roofline.CopyPoint p : copyBySize) if (work <= p.workingSetBytes()) return p.bytesPerSecond();
        return bytesPerSecond;
    }

    /** e.g. "peaks: 24.7 GB/s copy (DRAM), 366.2 GFLOP/s FP32 (measured roofline)". */
    public String describe() {
        return String.format(Locale.ROOT, "peaks: %.1f GB/s copy%s, %.1f GFLOP/s FP32 (%s%s)", bytesPerSecond / 1e9,
                copyBySize.isEmpty() ? "" : " (DRAM; smaller working sets against the copy of their size)", flopsPerSecond / 1e9,
                source, source.equals("vendor table") ? ": " + name : "");
    }
}
