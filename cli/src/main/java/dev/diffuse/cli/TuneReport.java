package dev.diffuse.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import dev.diffuse.kernels.tuning.OpTuning;
import dev.diffuse.kernels.tuning.Tuner;
import dev.diffuse.models.train.TrainableModel;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TuningCache;

/**
 * {@code diffuse tune --report}: per (op, shape) the default and tuned time (from the tuner, which timed both the
 * same way), and the whole model's forward and forward + backward with {@code -Ddiffuse.tuning=off} (defaults) and
 * {@code on} (tuned) timed interleaved, beside the Java device. Written as tune.json and tune.md.
 */
final class TuneReport {
    private TuneReport() {}

    /** One tuned (op, shape) at a batch size and how often one forward (+ backward) launches it. */
    record OpRow(int batch, Tuner.Result result, int calls, OpTuning op) {
        double rate(double ms) { return op.work(result.shape()) / (ms * 1e6); } // GFLOP/s or GB/s
    }

    /** Whole-model medians in ms; NaN where not measured. */
    record ModelRow(int batch, double fwdDefault, double fwdTuned, double trainDefault, double trainTuned, double fwdJava,
                    double trainJava) {
        ModelRow withJava(double[] fwdTrain) { return new ModelRow(batch, fwdDefault, fwdTuned, trainDefault, trainTuned, fwdTrain[0], fwdTrain[1]); }
    }

    /** A model with inputs at one batch size: one step is a forward, or zero-grad + forward + backward. */
    static final class Run implements AutoCloseable {
        private final TrainableModel m;
        private final int batch;
        private final boolean train;
        private final Tensor x, t, labels, out, dOut;

        Run(TrainableModel m, int batch, boolean train) {
            this.m = m;
            this.batch = batch;
            this.train = train;
            int[] s = m.sampleShape();
            int[] shape = new int[s.length + 1];
            shape[0] = batch;
            System.arraycopy(s, 0, shape, 1, s.length);
            x = Tensor.allocate(m.device(), shape);
            out = Tensor.allocate(m.device(), shape);
            dOut = Tensor.allocate(m.device(), shape);
            t = Tensor.allocate(m.device(), batch);
            labels = m.numClasses() > 0 ? Tensor.allocate(m.device(), batch) : null;
            Rng.fillNormal(x, 1, 0);
            Rng.fillNormal(dOut, 1, 1);
            float[] ts = new float[batch];
            for (int i = 0; i < batch; i++) ts[i] = (i * 37) % 1000;
            t.upload(ts);
        }

        void forward() {
            m.forward(out, x, t, labels);
            m.device().finish();
        }

        void step() {
            if (train) {
                m.zeroGradients();
                m.forward(out, x, t, labels);
                m.backward(dOut, null);
                m.device().finish();
            } else {
                forward();
            }
        }

        private static double ms(Runnable r) {
            long t0 = System.nanoTime();
            r.run();
            return (System.nanoTime() - t0) / 1e6;
        }

        /** Median forward and train-step ms with the current tuning mode (after one warm-up each). */
        double[] timeOnce(int reps) {
            forward();
            if (train) step();
            double[] f = new double[reps], s = new double[reps];
            for (int i = 0; i < reps; i++) {
                f[i] = ms(this::forward);
                s[i] = train ? ms(this::step) : Double.NaN;
            }
            return new double[]{median(f), train ? median(s) : Double.NaN};
        }

        /** Defaults (tuning off) against tuned (on), interleaved run by run so machine load hits both alike. */
        ModelRow time(int reps) {
            String saved = System.getProperty("diffuse.tuning");
            double[][] f = new double[2][reps], s = new double[2][reps];
            try {
                for (int mode = 0; mode < 2; mode++) {
                    System.setProperty("diffuse.tuning", mode == 0 ? "off" : "on");
                    step(); // compiles what this mode launches
                    forward();
                }
                for (int i = 0; i < reps; i++)
                    for (int mode = 0; mode < 2; mode++) {
                        System.setProperty("diffuse.tuning", mode == 0 ? "off" : "on");
                        f[mode][i] = ms(this::forward);
                        s[mode][i] = train ? ms(this::step) : Double.NaN;
                    }
            } finally {
                if (saved == null) System.clearProperty("diffuse.tuning");
                else System.setProperty("diffuse.tuning", saved);
            }
            return new ModelRow(batch, median(f[0]), median(f[1]), train ? median(s[0]) : Double.NaN,
                    train ? median(s[1]) : Double.NaN, Double.NaN, Double.NaN);
        }

        @Override
        public void close() {
            for (Tensor u : new Tensor[]{x, t, labels, out, dOut}) if (u != null) u.close();
            m.close();
        }
    }

    static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c.length % 2 == 1 ? c[c.length / 2] : (c[c.length / 2 - 1] + c[c.length / 2]) / 2;
    }

    static void print(PrintStream o, List<OpRow> rows, List<ModelRow> models) {
        o.printf(Locale.ROOT, "%n%-6s %-26s %-62s %6s %10s %10s %7s %10s%n", "batch", "op", "shape", "calls", "default ms",
                "tuned ms", "speedup", "tuned rate");
        for (OpRow r : rows)
            o.printf(Locale.ROOT, "%-6d %-26s %-62s %6d %10.3f %10.3f %7.2f %7.1f %s%n", r.batch, r.result.op(), r.result.shape(),
                    r.calls, r.result.defaultMs(), r.result.bestMs(), r.result.speedup(), r.rate(r.result.bestMs()),
                    r.op.unit().equals("B") ? "GB/s" : "GFLOP/s");
        o.printf(Locale.ROOT, "%n%-6s %-22s %12s %12s %8s %12s %16s%n", "batch", "whole model", "default ms", "tuned ms",
                "speedup", "java ms", "tuned / java");
        for (ModelRow m : models) {
            o.printf(Locale.ROOT, "%-6d %-22s %12.1f %12.1f %8.2f %12.1f %16.2f%n", m.batch, "forward", m.fwdDefault, m.fwdTuned,
                    m.fwdDefault / m.fwdTuned, m.fwdJava, m.fwdTuned / m.fwdJava);
            if (!Double.isNaN(m.trainTuned))
                o.printf(Locale.ROOT, "%-6d %-22s %12.1f %12.1f %8.2f %12.1f %16.2f%n", m.batch, "forward + backward",
                        m.trainDefault, m.trainTuned, m.trainDefault / m.trainTuned, m.trainJava, m.trainTuned / m.trainJava);
        }
    }

    static void write(Path dir, ClDevice cl, String model, List<OpRow> rows, List<ModelRow> models, double seconds) throws IOException {
        Files.createDirectories(dir);
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("device", cl.info().name());
        root.put("driver", cl.info().driverVersion());
        root.put("platform", cl.info().platformName() + " " + cl.info().platformVersion());
        root.put("java_device", JavaDevice.get().name());
        root.put("model", model);
        root.put("tuning_seconds", Math.round(seconds));
        List<Map<String, Object>> ops = new ArrayList<>();
        for (OpRow r : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("batch", r.batch);
            m.put("op", r.result.op());
            m.put("shape", r.result.shape().toString());
            m.put("calls", r.calls);
            m.put("default_ms", r.result.defaultMs());
            m.put("tuned_ms", r.result.bestMs());
            m.put("speedup", r.result.speedup());
            m.put("params", TuningCache.formatParams(r.result.best()));
            m.put("default_params", TuningCache.formatParams(r.result.defaults()));
            m.put("tuned_rate", r.rate(r.result.bestMs()));
            m.put("rate_unit", r.op.unit().equals("B") ? "GB/s" : "GFLOP/s");
            m.put("candidates_timed", r.result.timed());
            ops.add(m);
        }
        root.put("ops", ops);
        root.put("model_timings_ms", models);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(dir.resolve("tune.json").toFile(), root);

        StringBuilder md = new StringBuilder();
        md.append("# Kernel tuning report\n\n").append(String.format(Locale.ROOT, "Device: %s (%s, driver %s); Java device: %s; model %s; "
                + "tuning took %.0f s.%n%n", cl.info().name(), cl.info().platformName(), cl.info().driverVersion(),
                JavaDevice.get().name(), model, seconds));
        md.append("| batch | whole model | default ms | tuned ms | speedup | Java device ms | tuned / Java |\n|---|---|---|---|---|---|---|\n");
        for (ModelRow m : models) {
            md.append(String.format(Locale.ROOT, "| %d | forward | %.1f | %.1f | %.2f | %.1f | %.2f |%n", m.batch, m.fwdDefault,
                    m.fwdTuned, m.fwdDefault / m.fwdTuned, m.fwdJava, m.fwdTuned / m.fwdJava));
            if (!Double.isNaN(m.trainTuned))
                md.append(String.format(Locale.ROOT, "| %d | forward + backward | %.1f | %.1f | %.2f | %.1f | %.2f |%n", m.batch,
                        m.trainDefault, m.trainTuned, m.trainDefault / m.trainTuned, m.trainJava, m.trainTuned / m.trainJava));
        }
        md.append("\n| batch | op | shape | calls | default ms | tuned ms | speedup | tuned rate | tuned params |\n|---|---|---|---|---|---|---|---|---|\n");
        for (OpRow r : rows)
            md.append(String.format(Locale.ROOT, "| %d | %s | %s | %d | %.3f | %.3f | %.2f | %.1f %s | %s |%n", r.batch, r.result.op(),
                    r.result.shape(), r.calls, r.result.defaultMs(), r.result.bestMs(), r.result.speedup(),
                    r.rate(r.result.bestMs()), r.op.unit().equals("B") ? "GB/s" : "GFLOP/s", TuningCache.formatParams(r.result.best())));
        Files.writeString(dir.resolve("tune.md"), md);
    }
}
