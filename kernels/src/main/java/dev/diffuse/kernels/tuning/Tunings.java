package dev.diffuse.kernels.tuning;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import dev.diffuse.runtime.CacheDir;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Debug;
import dev.diffuse.runtime.TuningCache;

/**
 * Where launchers get their kernel parameters. {@code -Ddiffuse.tuning} says how:
 * <pre>
 *   on         (default) the tuned choice from the cache when there is one for this device, driver, op and shape,
 *              else the op's defaults
 *   off        always the defaults (for tuned-vs-default comparisons)
 *   first-use  as on, and a shape with no entry is tuned right there, on its first launch (costs seconds once)
 * </pre>
 * While {@link #record} runs, every (op, shape) asked for is collected, so {@code diffuse tune} learns a model's
 * shapes by running it once.
 */
public final class Tunings {
    /** An op and a shape it was launched with. */
    public record Request(OpTuning op, Shape shape) {
        @Override public String toString() { return op.op() + " " + shape; }
    }

    private static volatile Map<Request, Integer> recording;
    /** (device, op, shape) already logged at -Ddiffuse.debug=1, so each choice is logged once. */
    private static final java.util.Set<String> LOGGED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private Tunings() {}

    /** The mode of {@code -Ddiffuse.tuning}: on, off or first-use. */
    public static String mode() {
        String m = System.getProperty("diffuse.tuning", "on").trim().toLowerCase(java.util.Locale.ROOT);
        if (!m.equals("on") && !m.equals("off") && !m.equals("first-use"))
            throw new IllegalArgumentException("-Ddiffuse.tuning=" + m + ": use on, off or first-use");
        return m;
    }

    /** The parameters for {@code op} at {@code shape} on {@code device} ({@code -Ddiffuse.debug=1} logs each choice once). */
    public static Map<String, Integer> choose(ClDevice device, OpTuning op, Shape shape) {
        Map<String, Integer> p = resolve(device, op, shape);
        if (Debug.level() >= 1 && LOGGED.add(device.id() + " " + op.op() + " " + shape))
            Debug.log(1, op.op() + " " + shape + " on " + device.id() + ": " + TuningCache.formatParams(p));
        return p;
    }

    private static Map<String, Integer> resolve(ClDevice device, OpTuning op, Shape shape) {
        Map<Request, Integer> rec = recording;
        if (rec != null) rec.merge(new Request(op, shape), 1, Integer::sum);
        String mode = mode();
        if (mode.equals("off") || !CacheDir.enabled()) return op.defaults(shape, device.info());
        Optional<TuningCache.Entry> e = TuningCache.shared().get(device.info(), op.op(), shape.toString());
        if (e.isPresent()) {
            String why = op.illegal(e.get().params(), shape, device.info());
            if (why == null) return e.get().params();
            Debug.log(1, "tuning cache: ignoring " + op.op() + " " + shape + " " + e.get().params() + ": " + why);
        } else if (mode.equals("first-use") && rec == null) {
            Tuner.Result r = new Tuner(device, TuningCache.shared(), null).tune(op, shape);
            return r.best();
        }
        return op.defaults(shape, device.info());
    }

    /** Runs {@code body} and returns every (op, shape) launched meanwhile with its number of launches, in first-launch order. */
    public static synchronized Map<Request, Integer> record(Runnable body) {
        Map<Request, Integer> rec = java.util.Collections.synchronizedMap(new LinkedHashMap<>());
        recording = rec;
        try {
            body.run();
        } finally {
            recording = null;
        }
        synchronized (rec) {
            return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(rec));
        }
    }
}
