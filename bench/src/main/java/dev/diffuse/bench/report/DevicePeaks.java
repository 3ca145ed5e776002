package dev.diffuse.bench.report;

import java.util.Locale;
import java.util.Optional;

import dev.diffuse.runtime.Device;

/**
 * Peak figures for the devices we know, to turn GB/s and GFLOP/s into a share of peak. Bandwidth is the measured
 * copy bandwidth where we have it (what a memory-bound kernel can reach), FP32 the vendor's non-tensor figure.
 *
 * @param bytesPerSecond e.g. 2.8e12 for an H100 (PyTorch's measured copy; the data sheet says 3.35e12)
 * @param flopsPerSecond FP32, e.g. 67e12 for an H100 SXM
 */
public record DevicePeaks(String name, double bytesPerSecond, double flopsPerSecond) {

    public static Optional<DevicePeaks> of(Device d) {
        String n = d.name().toUpperCase(Locale.ROOT);
        if (n.contains("H100")) return Optional.of(new DevicePeaks("NVIDIA H100 (SXM)", 2.8e12, 67e12));
        if (n.contains("H200")) return Optional.of(new DevicePeaks("NVIDIA H200", 4.3e12, 67e12));
        if (n.contains("A100")) return Optional.of(new DevicePeaks("NVIDIA A100", 1.7e12, 19.5e12));
        return Optional.empty();
    }

    public double peak(OpCase.Unit unit) { return unit == OpCase.Unit.BYTE ? bytesPerSecond : flopsPerSecond; }
}
