package dev.diffuse.kernels.tuning;

import java.util.List;
import java.util.Map;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.ClDeviceInfo;

/**
 * The tunable side of one OpenCL op (conv2d forward, GEMM, attention forward, ...): its parameters are {@code -D}
 * defines of its kernels (tile sizes, work-group shape, vector width, which kernel variant), each with a legal range
 * that {@link #illegal} states. Launchers ask {@link Tunings#choose} for the parameters of a shape; the {@link Tuner}
 * times {@link #candidates} on the device and keeps the fastest that matches the Java reference.
 */
public interface OpTuning {
    /** Stable name, the op column of the tuning cache, e.g. {@code conv2d.forward}. */
    String op();

    /** What launches use when nothing was tuned for this shape on this device (always legal). */
    Map<String, Integer> defaults(Shape shape, ClDeviceInfo device);

    /** The legal parameter sets worth timing for this shape on this device, most promising first (defaults included). */
    List<Map<String, Integer>> candidates(Shape shape, ClDeviceInfo device);

    /**
     * Why {@code params} cannot run {@code shape} on {@code device} (a missing or out-of-range value, a work-group or
     * local memory over the device's limits, or over NVIDIA's in strict mode), or null when they can.
     */
    String illegal(Map<String, Integer> params, Shape shape, ClDeviceInfo device);

    /** Seeded inputs of {@code shape} on {@code device} and the Java reference of the op on the same inputs. */
    Trial trial(ClDevice device, Shape shape);

    /** Work of one call for the report: FLOPs (or bytes, for memory-bound ops: see {@link #unit()}). */
    double work(Shape shape);

    /** "FLOP" or "B": what {@link #work} counts. */
    default String unit() { return "FLOP"; }

    /** The arrays one after another (a trial's several outputs as one vector to compare). */
    static float[] concat(float[]... parts) {
        int n = 0;
        for (float[] p : parts) n += p.length;
        float[] out = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    /** One tuning problem: runs the op with given parameters; outputs compared with the Java reference. */
    interface Trial extends AutoCloseable {
        /** Runs the op once on the OpenCL device with {@code params} (resetting accumulated outputs first); does not wait. */
        void run(Map<String, Integer> params);

        /** The OpenCL outputs of the last run, concatenated (blocking read). */
        float[] output();

        /** The same outputs computed by the Java reference on the same inputs. */
        float[] reference();

        @Override
        void close();
    }
}
