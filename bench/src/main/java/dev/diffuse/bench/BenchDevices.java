package dev.diffuse.bench;

import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Devices;

/**
 * The {@code @Param device} values of every JMH benchmark: {@code java} is the pure-Java device, {@code cl} the
 * first OpenCL device (GPU first), or any spec {@link Devices#select} takes ({@code cl:gpu}, {@code cl:0:1}).
 * OpenCL timings call {@link Device#finish()} inside the measured method, so they include the kernel, not only
 * its enqueueing; host transfers are excluded unless a benchmark's name says {@code WithTransfers}.
 */
public final class BenchDevices {
    private BenchDevices() {}

    public static Device of(String spec) {
        return Devices.select(spec);
    }

    /** Parses a shape parameter such as {@code "64x128x32x32"}. */
    public static int[] shape(String s) {
        String[] p = s.split("x");
        int[] out = new int[p.length];
        for (int i = 0; i < p.length; i++) out[i] = Integer.parseInt(p[i].trim());
        return out;
    }
}
