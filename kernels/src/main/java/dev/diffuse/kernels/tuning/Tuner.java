package dev.diffuse.kernels.tuning;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.diffuse.runtime.ClBuildException;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.TuningCache;

/**
 * Times the candidates of an op at one shape on the actual device and stores the fastest correct one in the
 * {@link TuningCache}. For each candidate: one untimed run (compiles the program, warms caches), a check of its
 * output against the Java reference (max |out - ref| at most {@link #TOLERANCE} times max |ref|, no NaN), then the
 * median of several timed runs (each run + clFinish; enough runs for about {@link #SECONDS_PER_CANDIDATE} s, 3 to 15).
 * The defaults are timed the same way, so each entry records what tuning gained. A candidate that fails to build,
 * to launch or the check is skipped and counted; an op whose candidates take longer than the time budget stops early
 * (candidates come most promising first).
 */
public final class Tuner {
    /** Accepted error of a candidate: max |out - ref| / max |ref| (float sums in another order differ by ~1e-6). */
    public static final double TOLERANCE = 1e-4;
    static final double SECONDS_PER_CANDIDATE = 0.25;

    /** What tuning one (op, shape) found: the best parameters and their time, the defaults' time, what was skipped. */
    public record Result(String op, Shape shape, Map<String, Integer> best, double bestMs, Map<String, Integer> defaults,
                         double defaultMs, int timed, int candidates, List<String> rejected) {
        public double speedup() { return defaultMs / bestMs; }

        /** What an earlier tuning run stored (its times were measured then). */
        public static Result cached(TuningCache.Entry e, Shape shape, Map<String, Integer> defaults) {
            return new Result(e.op(), shape, e.params(), e.tunedMs(), defaults, e.defaultMs(), 0, 0, List.of("cached"));
        }
    }

    private final ClDevice device;
    private final TuningCache cache;
    private final PrintStream log;
    private double budgetSeconds = 60;

    /** @param cache where results go (null: nowhere); @param log progress lines (null: quiet) */
    public Tuner(ClDevice device, TuningCache cache, PrintStream log) {
        this.device = device;
        this.cache = cache;
        this.log = log;
    }

    /** Most seconds spent on one (op, shape) before the remaining candidates are dropped (default 60). */
    public Tuner budgetSeconds(double s) {
        this.budgetSeconds = s;
        return this;
    }

    public Result tune(OpTuning op, Shape shape) {
        long t0 = System.nanoTime();
        List<Map<String, Integer>> cands = op.candidates(shape, device.info());
        Map<String, Integer> defaults = op.defaults(shape, device.info());
        List<String> rejected = new ArrayList<>();
        Map<String, Integer> best = defaults;
        double defaultMs, bestMs;
        int timed = 0;
        try (OpTuning.Trial trial = op.trial(device, shape)) {
            float[] ref = trial.reference();
            defaultMs = bestMs = time(trial, defaults, ref, rejected, Double.POSITIVE_INFINITY);
            if (Double.isNaN(defaultMs))
                throw new IllegalStateException("tuning " + op.op() + " " + shape + ": the default parameters " + defaults
                        + " fail on " + device.id() + ": " + rejected);
            for (Map<String, Integer> p : cands) {
                if (p.equals(defaults)) continue;
                if ((System.nanoTime() - t0) / 1e9 > budgetSeconds) {
                    rejected.add((cands.size() - timed - 1) + " candidates not timed (budget of " + budgetSeconds + " s spent)");
                    break;
                }
                String why = op.illegal(p, shape, device.info());
                if (why != null) {
                    rejected.add(p + ": " + why);
                    continue;
                }
                double ms = time(trial, p, ref, rejected, bestMs);
                timed++;
                if (ms < bestMs) {
                    bestMs = ms;
                    best = p;
                }
            }
        }
        Result r = new Result(op.op(), shape, best, bestMs, defaults, defaultMs, timed + 1, cands.size(), rejected);
        if (log != null)
            log.printf("  %-28s %-60s %9.3f ms -> %9.3f ms (x%.2f)  %s  [%d timed, %.1f s]%n", op.op(), shape, defaultMs,
                    bestMs, r.speedup(), TuningCache.formatParams(best), timed + 1, (System.nanoTime() - t0) / 1e9);
        if (log != null) for (String why : rejected) log.println("      skipped " + why);
        if (cache != null) {
            try {
                cache.put(new TuningCache.Entry(device.info().name(), device.info().driverVersion(), op.op(), shape.toString(),
                        best, bestMs, defaultMs));
            } catch (IOException e) {
                throw new IllegalStateException("cannot write the tuning cache " + cache.file() + ": " + e.getMessage(), e);
            }
        }
        return r;
    }

    /**
     * Median milliseconds of {@code params}, or NaN (reason added to {@code rejected}) when it fails to build, run or
     * match the reference. Stops after the first timed run when that is over 3x {@code bestSoFar}.
     */
    private double time(OpTuning.Trial trial, Map<String, Integer> params, float[] ref, List<String> rejected, double bestSoFar) {
        try {
            trial.run(params);
            device.finish();
            String bad = mismatch(trial.output(), ref);
            if (bad != null) {
                rejected.add(params + ": " + bad);
                return Double.NaN;
            }
            double first = once(trial, params);
            if (first > 3 * bestSoFar) return first;
            int reps = (int) Math.max(3, Math.min(15, SECONDS_PER_CANDIDATE * 1e3 / Math.max(first, 1e-3)));
            double[] t = new double[reps];
            t[0] = first;
            for (int i = 1; i < reps; i++) t[i] = once(trial, params);
            java.util.Arrays.sort(t);
            return t[reps / 2];
        } catch (ClBuildException | IllegalArgumentException | org.jocl.CLException e) {
            rejected.add(params + ": " + e.getMessage().lines().findFirst().orElse(e.toString()));
            return Double.NaN;
        }
    }

    private double once(OpTuning.Trial trial, Map<String, Integer> params) {
        long t = System.nanoTime();
        trial.run(params);
        device.finish();
        return (System.nanoTime() - t) / 1e6;
    }

    /** Null when {@code out} matches {@code ref} within {@link #TOLERANCE}, else what is wrong. */
    public static String mismatch(float[] out, float[] ref) {
        if (out.length != ref.length) return "output has " + out.length + " values, reference " + ref.length;
        double scale = 0, worst = 0;
        int at = -1;
        for (float r : ref) scale = Math.max(scale, Math.abs(r));
        for (int i = 0; i < out.length; i++) {
            double d = Math.abs((double) out[i] - ref[i]);
            if (Double.isNaN(d)) return "NaN at " + i;
            if (d > worst) {
                worst = d;
                at = i;
            }
        }
        return worst <= TOLERANCE * Math.max(scale, 1e-30) ? null
                : String.format("differs from the Java reference: |%g - %g| at %d (tolerance %g)", out[at], ref[at], at, TOLERANCE * scale);
    }
}
