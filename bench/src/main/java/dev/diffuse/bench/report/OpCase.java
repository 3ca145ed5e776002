package dev.diffuse.bench.report;

import dev.diffuse.runtime.Device;

/**
 * One row of the ops report: an op at one shape. {@code setup} allocates on the device and returns the action to
 * time (which must only enqueue work; the timer calls {@link Device#finish()}) and a closer.
 *
 * @param op     e.g. "conv2d 3x3 forward"
 * @param shape  e.g. "128x128x32x32"
 * @param unit   what {@code work} counts
 * @param work   FLOPs (unit FLOP) or bytes moved (unit BYTE) per call
 */
public record OpCase(String op, String shape, Unit unit, double work, Setup setup) {
    public enum Unit { FLOP, BYTE }

    public interface Setup { Prepared prepare(Device device); }

    public record Prepared(Runnable action, AutoCloseable resources) {}

    /** A case is part of the --quick set when its work is small enough for a CPU device. */
    public boolean quick() { return unit == Unit.BYTE ? work <= 64e6 : work <= 2e9; }
}
