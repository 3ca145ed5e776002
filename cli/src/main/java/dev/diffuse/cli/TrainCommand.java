package dev.diffuse.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import dev.diffuse.models.data.Dataset;
import dev.diffuse.models.data.Datasets;
import dev.diffuse.models.data.FashionMnist;
import dev.diffuse.models.train.CheckpointFolders;
import dev.diffuse.models.train.Checkpoints;
import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.models.vae.LatentSpace;
import dev.diffuse.models.train.TrainConfig;
import dev.diffuse.models.train.TrainListener;
import dev.diffuse.models.train.TrainableModel;
import dev.diffuse.models.train.Trainer;
import dev.diffuse.models.train.WeightInit;
import dev.diffuse.cli.plot.LossCurve;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Devices;
import dev.diffuse.runtime.MemoryBudget;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code diffuse train}: trains a network with a progress bar, sample grids, checkpoints and a loss curve, on one of
 * three objectives: DDPM epsilon prediction (default), flow matching, or consistency training. {@code --resume}
 * continues the run recorded in the latest checkpoint ({@link ResumeFlags}); memory is checked before anything is
 * allocated; a NaN or infinite loss or gradient stops training with the last good checkpoint kept.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a diffusion model with manual backprop on the chosen device: DDPM epsilon prediction (default), "
                + "flow matching (--objective flow) or consistency training (--objective consistency). On a CPU the small U-Net "
                + "takes about a second per step at batch 64; a GPU (--device cl:gpu) is far faster.")
public final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--data", defaultValue = "fashion-mnist", description = "training data: fashion-mnist[:train|:test] (Debian's "
            + "dataset-fashion-mnist package), png:DIR (same-size PNGs; DIR/CLASS/*.png for labels), or a 2-D mixture preset "
            + "ring8 | aniso2d | gmm16d | ...[:N samples] (default ${DEFAULT-VALUE})")
    String data;

    @Option(names = "--data-dir", description = "folder with the Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)")
    Path dataDir;

    @Option(names = "--config", defaultValue = "small", description = "model: small (2.8M-parameter U-Net, as in pretrained/"
            + "fashion-mnist-small) | tiny (a 30k-parameter U-Net for quick tries) | cifar10 (google/ddpm-cifar10-32's 36M U-Net) | mlp "
            + "(vector data) | path/to/config.json; the presets take their channels and image size from the data (default ${DEFAULT-VALUE})")
    String config;

    @Option(names = "--class-conditional", description = "add a class embedding (labels from the data)")
    boolean classConditional;

    @Option(names = "--label-dropout", defaultValue = "0", description = "with --class-conditional: probability of training a sample "
            + "with the \"no class\" label (an extra class row), so that sample --guidance works, e.g. 0.1 (default ${DEFAULT-VALUE})")
    double labelDropout;

    @Option(names = "--init-from", description = "start from this model's weights (same architecture; a class embedding it lacks starts at zero), "
            + "e.g. pretrained/fashion-mnist-small")
    Path initFrom;

    @Option(names = "--objective", description = "epsilon (DDPM loss, default) | flow (flow matching, linear path) | consistency "
            + "(consistency training, improved-CT levels)")
    String objective;

    @Option(names = "--steps", defaultValue = "1000", description = "total optimizer steps of the run (default ${DEFAULT-VALUE}; "
            + "with --resume the recorded total unless given)") int steps;
    @Option(names = "--batch", defaultValue = "64", description = "samples per step (default ${DEFAULT-VALUE})") int batch;
    @Option(names = "--lr", defaultValue = "2e-4", description = "peak AdamW learning rate (default ${DEFAULT-VALUE})") double lr;
    @Option(names = "--warmup", defaultValue = "100", description = "linear learning-rate warm-up steps (default ${DEFAULT-VALUE})") int warmup;
    @Option(names = "--ema", defaultValue = "0.999", description = "EMA decay of the weights used for sampling; epsilon and flow "
            + "objectives (default ${DEFAULT-VALUE})") double ema;
    @Option(names = "--seed", defaultValue = "0", description = "seed of the initial weights and of every draw: batches, "
            + "timesteps, noise (default ${DEFAULT-VALUE})") long seed;
    @Option(names = "--device", defaultValue = "auto", description = "auto | java | cl | cl:gpu | cl:cpu | cl:P:I (default ${DEFAULT-VALUE})") String device;
    @Option(names = "--out", required = true, description = "run folder for checkpoint-N folders, samples/ and loss.png, e.g. runs/fmnist-small") Path out;
    @Option(names = "--resume", description = "continue the run in --out from its latest checkpoint, with its recorded data, model and "
            + "settings; a flag that differs from the recorded value is refused unless --override is given") boolean resume;
    @Option(names = "--override", description = "with --resume: use the given --data, --data-dir, --batch, --lr, --warmup, --ema and --seed "
            + "instead of the recorded ones (the next checkpoints record the new values)") boolean override;
    @Option(names = "--log-every", defaultValue = "25", description = "read the mean loss back and show it every K steps (default "
            + "${DEFAULT-VALUE})") int logEvery;
    @Option(names = "--sample-every", defaultValue = "1000", description = "write a grid of --sample-n samples to samples/step-K.png every K "
            + "steps and samples/final.png at the end; 0: never (default ${DEFAULT-VALUE}; a grid of 16 images takes about 20 s on a CPU)")
    int sampleEvery;
    @Option(names = "--sample-n", description = "samples per grid (default 16 images; 2000 points for vector data)") Integer sampleN;
    @Option(names = "--checkpoint-every", defaultValue = "500", description = "save checkpoint-K every K steps and at the end (default "
            + "${DEFAULT-VALUE})") int checkpointEvery;
    @Option(names = "--vae", description = "latent diffusion: train on the scaled latents of this AutoencoderKL folder (from 'diffuse train-vae'); "
            + "--config then defaults to latent; checkpoints carry the VAE and sample grids are decoded; a resumed run uses its own copy") Path vae;
    @Option(names = "--keep-last", defaultValue = "3", description = "keep the K newest checkpoints and delete older ones; the newest, "
            + "final one is always kept; 0 keeps all (default ${DEFAULT-VALUE})") int keepLast;

    @Override
    public Integer call() throws Exception {
        checkOptions();
        Path resumeFrom = resume ? Trainer.latestCheckpoint(out) : null;
        if (resume && resumeFrom == null) throw new IllegalArgumentException("--resume: no checkpoint-N folder in " + out);
        if (!resume && Files.isDirectory(out) && Trainer.latestCheckpoint(out) != null)
            throw new IllegalArgumentException(out + " already holds checkpoints: pass --resume to continue, or choose another --out");
        if (override && !resume) throw new IllegalArgumentException("--override only applies with --resume");
        ModelObjective.Kind kind = objectiveKind(resumeFrom);
        ResumeFlags flags = resumeFrom == null ? null : new ResumeFlags(spec.commandLine().getParseResult(), override, resumeFrom);
        if (flags != null) resolveRecordedData(flags, resumeFrom);
        Device d = Devices.select(device);
        List<Path> stale = CheckpointFolders.cleanStale(out);
        if (!stale.isEmpty()) System.out.println("removed " + stale.size() + " temporary file(s) left by an interrupted run: " + stale);
        if (kind == ModelObjective.Kind.CONSISTENCY && (vae != null || (resumeFrom != null && LatentSpace.read(resumeFrom) != null)))
            throw new IllegalArgumentException("--vae: consistency training in latent space is not supported; use --objective epsilon or flow");
        if (kind == ModelObjective.Kind.CONSISTENCY) return new ConsistencyRun(this, flags).train(d, resumeFrom);
        TrainConfig cfg = resumeFrom != null ? resumedConfig(flags, Trainer.readConfig(resumeFrom))
                : TrainConfig.defaults(steps, batch).withLr(lr, warmup).withEma(ema).withSeed(seed).withEvery(logEvery, sampleEvery, checkpointEvery)
                        .withObjective(kind == ModelObjective.Kind.FLOW ? TrainConfig.Objective.FLOW : TrainConfig.Objective.EPSILON)
                        .withLabelDropout(labelDropout);
        if (labelDropout > 0 && !classConditional && resumeFrom == null)
            throw new IllegalArgumentException("--label-dropout trains the \"no class\" row of a class-conditional model: add --class-conditional");
        if (flags != null) flags.check(); // before loading any data
        Dataset pixels = Datasets.open(data, dataDir);
        LatentTraining latent = LatentTraining.open(vae, resumeFrom, out, pixels, data, d);
        if (latent != null && config.equals("small")) config = "latent";
        Dataset ds = latent == null ? pixels : latent.data();
        System.out.println("device: " + d.id() + "  " + d.name());
        System.out.println("data:   " + ds.description());
        TrainModels.Plan plan = plan(flags, resumeFrom, ds);
        requireMemory(d, plan, ds, cfg.batch(), Trainer.bytesNeeded(plan.parameters(), cfg.batch(), ds.sampleNumel(),
                Trainer.dataOnDevice(d, ds, cfg.trainTimesteps()) ? Trainer.deviceDataFloats(ds, cfg.trainTimesteps()) : 0));
        ModelObjective obj = ModelObjective.of(cfg);
        TrainProgress progress = new TrainProgress();
        try (TrainableModel model = initialized(plan.create(d, cfg.batch(), cfg.seed()), resumeFrom); Trainer tr = new Trainer(model, ds, cfg)) {
            System.out.printf(Locale.ROOT, "model:  %s, objective %s%n", plan.describe(), obj.label());
            if (resumeFrom != null) {
                tr.load(resumeFrom);
                System.out.println("resumed from " + resumeFrom + " at step " + tr.step() + " of " + cfg.steps());
            }
            ProgressBar bar = TrainProgress.bar(cfg.steps());
            bar.stepTo(tr.step());
            tr.dataSpec(data).dataDir(recordedDataDir()).outputDir(out).keepLast(keepLast).configWriter(f -> {
                        Models.writeConfig(model, f);
                        if (latent != null) latent.install(f);
                    })
                    .listener(new TrainListener() {
                        @Override
                        public void onStep(int step, int total, double loss, double rate) { bar.stepTo(step); }

                        @Override
                        public void onLoss(int step, double loss) { bar.setExtraMessage(TrainProgress.lossMessage(loss)); }

                        @Override
                        public void onSampleDue(int step, Trainer t) {
                            if (step < cfg.steps())
                                t.withEmaWeights(() -> progress.write(model, obj, cfg.schedule(), ds, out.resolve("samples/step-" + step + ".png"), cfg.seed(), sampleN, latent));
                        }
                    });
            try {
                tr.run();
            } finally {
                bar.close();
            }
            LossCurve.write(out.resolve("loss.png"), tr.lossSteps(), tr.lossValues());
            if (cfg.sampleEvery() > 0)
                tr.withEmaWeights(() -> progress.write(model, obj, cfg.schedule(), ds, out.resolve("samples/final.png"), cfg.seed(), sampleN, latent));
            System.out.println(written(progress));
        }
        return 0;
    }

    /** A new model started from --init-from's weights (not on --resume), closed if that fails. */
    private TrainableModel initialized(TrainableModel m, Path resumeFrom) throws java.io.IOException {
        if (initFrom == null || resumeFrom != null) return m;
        try {
            System.out.println("init:   " + initFrom + " (not in it: " + WeightInit.fromWeights(m, Models.resolve(initFrom)) + ")");
            return m;
        } catch (java.io.IOException | RuntimeException e) {
            m.close();
            throw e;
        }
    }

    private void checkOptions() {
        if (steps < 1) throw new IllegalArgumentException("--steps must be at least 1, got " + steps);
        if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        if (!(lr > 0) || !Double.isFinite(lr)) throw new IllegalArgumentException("--lr must be a positive number, got " + lr);
        if (logEvery < 1) throw new IllegalArgumentException("--log-every must be at least 1, got " + logEvery);
        if (sampleEvery < 0 || checkpointEvery < 0) throw new IllegalArgumentException("--sample-every and --checkpoint-every must be >= 0 (0: never)");
        if (keepLast < 0) throw new IllegalArgumentException("--keep-last must be >= 0 (0 keeps every checkpoint), got " + keepLast);
        if (sampleN != null && sampleN < 1) throw new IllegalArgumentException("--sample-n must be at least 1, got " + sampleN);
    }

    /** On --resume: --data and --data-dir become the recorded ones (a different explicit value is refused or overrides). */
    private void resolveRecordedData(ResumeFlags flags, Path checkpoint) throws java.io.IOException {
        var meta = Checkpoints.metadata(checkpoint);
        String recorded = meta.getOrDefault("data_spec", "");
        if (recorded.isEmpty()) System.out.println("note: " + checkpoint + " records no data set (an older checkpoint); using --data " + data);
        else data = flags.pick("--data", data, recorded);
        String dir = meta.getOrDefault("data_dir", "");
        if (!dir.isEmpty()) dataDir = flags.pick("--data-dir", dataDir, Path.of(dir));
    }

    /** The data folder to record: --data-dir, or Fashion-MNIST's default folder when that is where the data came from. */
    Path recordedDataDir() {
        if (dataDir != null) return dataDir;
        return data.startsWith("fashion") ? FashionMnist.DEFAULT_DIR : null;
    }

    /** The recorded training config with the flags given on this command line applied (refused ones are collected). */
    private TrainConfig resumedConfig(ResumeFlags f, TrainConfig rec) {
        int b = f.pick("--batch", batch, rec.batch());
        double l = f.pick("--lr", lr, rec.lr());
        int w = f.pick("--warmup", warmup, rec.warmupSteps());
        double e = f.pick("--ema", ema, rec.emaDecay());
        long s = f.pick("--seed", seed, rec.seed());
        return new TrainConfig(f.given("--steps") ? steps : rec.steps(), b, l, w, rec.weightDecay(), rec.beta1(), rec.beta2(), rec.eps(), e,
                rec.gradClip(), s, f.given("--log-every") ? logEvery : rec.logEvery(), f.given("--sample-every") ? sampleEvery : rec.sampleEvery(),
                f.given("--checkpoint-every") ? checkpointEvery : rec.checkpointEvery(), rec.betaSchedule(), rec.trainTimesteps(),
                rec.betaStart(), rec.betaEnd(), rec.objective(), rec.labelDropout());
    }

    /** The model: the checkpoint's on --resume (a different --config / --class-conditional is refused), else from --config. */
    TrainModels.Plan plan(ResumeFlags flags, Path resumeFrom, Dataset ds) throws java.io.IOException {
        if (resumeFrom == null) return TrainModels.of(config, ds, classConditional, labelDropout > 0);
        TrainModels.Plan recorded = TrainModels.ofCheckpoint(resumeFrom);
        if (flags.given("--config") || flags.given("--class-conditional")) {
            String asked = config + (classConditional ? " --class-conditional" : "");
            boolean same;
            try {
                boolean nullRow = labelDropout > 0 || Trainer.readConfig(resumeFrom).labelDropout() > 0; // the recorded run's "no class" row
                TrainModels.Plan p = TrainModels.of(config, ds, classConditional, nullRow);
                same = p.sameArchitecture(recorded);
                asked = p.describe();
            } catch (IllegalArgumentException notForThisData) {
                same = false;
            }
            flags.keep("--config", asked, same ? asked : recorded.describe());
        }
        flags.check();
        return recorded;
    }

    /**
     * Refuses, before allocating, a run whose model and trainer do not fit the device's memory budget, and prints what
     * they take.
     */
    static void requireMemory(Device d, TrainModels.Plan plan, Dataset ds, int batch, long trainerBytes) {
        long model = plan.bytes(batch);
        String what = String.format(Locale.ROOT, "training %s at batch %d on %s (model %s, optimizer and batch buffers %s)",
                plan.label(), batch, ds.description().replaceAll(" \\(.*", ""), MemoryBudget.size(model), MemoryBudget.size(trainerBytes));
        MemoryBudget.require(d, what, model < 0 ? -1 : model + trainerBytes, "lower --batch or choose a smaller --config");
        System.out.printf(Locale.ROOT, "memory: %s for the model and %s for the trainer on %s (limit %s)%n", MemoryBudget.size(model),
                MemoryBudget.size(trainerBytes), d.id(), MemoryBudget.size(MemoryBudget.limit(d)));
    }

    /** The objective to train: the resumed checkpoint's (an explicit different --objective is an error), else --objective. */
    private ModelObjective.Kind objectiveKind(Path resumeFrom) throws java.io.IOException {
        ModelObjective.Kind asked = null;
        if (objective != null) {
            try {
                asked = ModelObjective.Kind.valueOf(objective.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--objective must be epsilon, flow or consistency, got '" + objective + "'");
            }
        }
        if (resumeFrom == null) return asked == null ? ModelObjective.Kind.EPSILON : asked;
        ModelObjective.Kind stored = ModelObjective.read(resumeFrom).kind();
        if (asked != null && asked != stored)
            throw new IllegalArgumentException("--resume: " + resumeFrom + " was trained with objective " + stored.name().toLowerCase(Locale.ROOT)
                    + ", not " + objective + "; drop --objective or choose another --out");
        return stored;
    }

    /** "wrote runs/x/loss.png, runs/x/checkpoint-1000 (3 kept), samples/final.png" from what is on disk. */
    String written(TrainProgress progress) throws java.io.IOException {
        Path latest = Trainer.latestCheckpoint(out);
        long kept;
        try (var s = Files.list(out)) {
            kept = s.filter(p -> CheckpointFolders.stepOf(p) >= 0).count();
        }
        return "wrote " + (Files.exists(out.resolve("loss.png")) ? out.resolve("loss.png") + ", " : "") + latest
                + (kept > 1 ? " (" + kept + " checkpoints kept)" : "") + ", " + progress.samplesWritten();
    }

    // options read by ConsistencyRun
    String data() { return data; }
    Path dataDir() { return dataDir; }
    Path out() { return out; }
    int steps() { return steps; }
    int batch() { return batch; }
    double lr() { return lr; }
    int warmup() { return warmup; }
    long seed() { return seed; }
    int logEvery() { return logEvery; }
    int sampleEvery() { return sampleEvery; }
    Integer sampleN() { return sampleN; }
    int checkpointEvery() { return checkpointEvery; }
    int keepLast() { return keepLast; }
    boolean emaGiven() { return spec.commandLine().getParseResult().hasMatchedOption("--ema"); }
}
