package dev.diffuse.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.diffuse.kernels.tuning.Tuner;
import dev.diffuse.kernels.tuning.Tunings;
import dev.diffuse.models.train.TrainableModel;
import dev.diffuse.models.unet.UNet2DModel;
import dev.diffuse.models.unet.UNetConfig;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Devices;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.TuningCache;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code diffuse tune}: learns a model's op shapes by running it once (forward, and backward unless
 * {@code --forward-only}), times every legal kernel candidate of each (op, shape) on the OpenCL device, checks it
 * against the Java reference and caches the fastest ({@link dev.diffuse.runtime.TuningCache}, next to the program
 * cache); every later launch on this device and driver uses it. Shapes already in the cache are kept (their stored
 * times go to the report) unless {@code --retune}, so an interrupted or time-limited run can be continued. {@code --report} then times the whole model with
 * the defaults and with the tuned choices (and on the Java device) and writes tune.json and tune.md.
 */
@Command(name = "tune", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Tune the OpenCL kernels for a model's shapes on a device and cache the fastest correct choices.")
public final class TuneCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "model folder (diffusers UNet2DModel, checkpoint or run folder), or small | tiny | cifar10 (random weights)")
    String model;

    @Option(names = "--device", defaultValue = "cl", description = "an OpenCL device: cl | cl:gpu | cl:cpu | cl:P:I (default ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--batch", defaultValue = "64", split = ",", description = "batch sizes to tune for, e.g. 1,64 (default ${DEFAULT-VALUE})")
    List<Integer> batches;

    @Option(names = "--forward-only", description = "tune the forward's shapes only (sampling), not the backward's (training)")
    boolean forwardOnly;

    @Option(names = "--budget", defaultValue = "20", description = "most seconds per (op, shape) (default ${DEFAULT-VALUE})")
    double budget;

    @Option(names = "--max-seconds", defaultValue = "0",
            description = "start no new (op, shape) after this many seconds (0: no limit); the most work is tuned first, "
                    + "the rest keep their defaults (a later run continues)")
    double maxSeconds;

    @Option(names = "--retune", description = "tune shapes that already have a cache entry for this device and driver again")
    boolean retune;

    @Option(names = "--report", description = "then time the model with default and tuned kernels (and on the Java device); write tune.json, tune.md")
    boolean report;

    @Option(names = "--reps", defaultValue = "3", description = "--report: timed runs per variant (default ${DEFAULT-VALUE})")
    int reps;

    @Option(names = "--no-java", description = "--report: skip the Java device timings")
    boolean noJava;

    @Option(names = "--out", defaultValue = "tune-out", description = "--report: folder for tune.json and tune.md (default ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() throws Exception {
        Device d = Devices.select(device);
        if (!(d instanceof ClDevice cl))
            throw new IllegalArgumentException("diffuse tune tunes OpenCL kernels: --device must name an OpenCL device (cl, cl:gpu, cl:cpu or cl:P:I), got " + d.id());
        for (int b : batches) if (b <= 0) throw new IllegalArgumentException("--batch must be positive, got " + b);
        if (!(budget > 0)) throw new IllegalArgumentException("--budget must be positive, got " + budget);
        if (maxSeconds < 0) throw new IllegalArgumentException("--max-seconds must be >= 0, got " + maxSeconds);
        if (reps <= 0) throw new IllegalArgumentException("--reps must be positive, got " + reps);
        TuningCache cache = TuningCache.shared();
        System.out.printf(Locale.ROOT, "tuning on %s; cache %s%n", cl.name(), cache.file());
        List<TuneReport.OpRow> rows = new ArrayList<>();
        List<TuneReport.ModelRow> models = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int batch : batches) {
            try (TuneReport.Run run = new TuneReport.Run(open(cl, batch), batch, !forwardOnly)) {
                Map<Tunings.Request, Integer> shapes = Tunings.record(run::step);
                System.out.printf(Locale.ROOT, "batch %d: %d (op, shape) pairs%n", batch, shapes.size());
                Tuner tuner = new Tuner(cl, cache, System.out).budgetSeconds(budget);
                int left = shapes.size();
                for (var e : byWork(shapes)) {
                    var op = e.getKey().op();
                    var shape = e.getKey().shape();
                    var known = retune ? java.util.Optional.<TuningCache.Entry>empty() : cache.get(cl.info(), op.op(), shape.toString());
                    if (known.isPresent() && op.illegal(known.get().params(), shape, cl.info()) == null) {
                        rows.add(new TuneReport.OpRow(batch, Tuner.Result.cached(known.get(), shape, op.defaults(shape, cl.info())),
                                e.getValue(), op));
                        left--;
                        continue;
                    }
                    if (maxSeconds > 0 && (System.nanoTime() - t0) / 1e9 > maxSeconds) {
                        System.out.printf(Locale.ROOT, "--max-seconds %.0f reached: %d (op, shape) pairs keep their defaults%n", maxSeconds, left);
                        break;
                    }
                    rows.add(new TuneReport.OpRow(batch, tuner.tune(op, shape), e.getValue(), op));
                    left--;
                }
                if (report) {
                    cache.reload();
                    TuneReport.ModelRow m = run.time(reps);
                    if (!noJava) {
                        try (TuneReport.Run java = new TuneReport.Run(open(JavaDevice.get(), batch), batch, !forwardOnly)) {
                            m = m.withJava(java.timeOnce(reps));
                        }
                    }
                    models.add(m);
                }
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf(Locale.ROOT, "tuned %d (op, shape) pairs in %.0f s; cached in %s%n", rows.size(), seconds, cache.file());
        if (report) {
            TuneReport.print(System.out, rows, models);
            TuneReport.write(out, cl, model, rows, models, seconds);
            System.out.println("wrote " + out.resolve("tune.json") + " and " + out.resolve("tune.md"));
        }
        return 0;
    }

    /**
     * The recorded (op, shape) pairs, most work first (launches x FLOPs, a byte counted as 20 FLOPs), so that a
     * time-limited run tunes what costs the most.
     */
    static List<Map.Entry<Tunings.Request, Integer>> byWork(Map<Tunings.Request, Integer> shapes) {
        List<Map.Entry<Tunings.Request, Integer>> order = new ArrayList<>(shapes.entrySet());
        order.sort(java.util.Comparator.comparingDouble(e -> -e.getValue() * e.getKey().op().work(e.getKey().shape())
                * (e.getKey().op().unit().equals("B") ? 20 : 1)));
        return order;
    }

    /** The model of {@code --model} on {@code d} for {@code batch} rows, with what a backward needs unless --forward-only. */
    private TrainableModel open(Device d, int batch) throws java.io.IOException {
        UNetConfig builtIn = switch (model) {
            case "small" -> UNetConfig.small();
            case "tiny" -> UNetConfig.tiny();
            case "cifar10" -> UNetConfig.ddpmCifar10();
            default -> null;
        };
        if (builtIn == null) return Models.load(Path.of(model), d, batch, !forwardOnly);
        UNet2DModel m = new UNet2DModel(builtIn, d, batch, !forwardOnly);
        m.initialize(1);
        return m;
    }
}
