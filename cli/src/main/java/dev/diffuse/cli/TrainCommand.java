package dev.diffuse.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import dev.diffuse.models.consistency.ConsistencyConfig;
import dev.diffuse.models.consistency.ConsistencyTrainer;
import dev.diffuse.models.data.Dataset;
import dev.diffuse.models.data.Datasets;
import dev.diffuse.models.train.LossCurve;
import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.models.train.NetworkDenoiser;
import dev.diffuse.models.train.TrainConfig;
import dev.diffuse.models.train.TrainListener;
import dev.diffuse.models.train.TrainableModel;
import dev.diffuse.models.train.Trainer;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Devices;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.Samplers;
import dev.diffuse.samplers.consistency.ConsistencySampler;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code diffuse train}: trains a network with a progress bar, sample grids, checkpoints and a loss curve, on one of
 * three objectives: DDPM epsilon prediction (default), flow matching, or consistency training.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a diffusion model with manual backprop on the chosen device: DDPM epsilon prediction (default), "
                + "flow matching (--objective flow) or consistency training (--objective consistency).")
public final class TrainCommand implements Callable<Integer> {
    @Option(names = "--data", defaultValue = "fashion-mnist", description = "fashion-mnist[:train|:test] | png:DIR | ring8 | aniso2d | ... (default ${DEFAULT-VALUE})")
    String data;

    @Option(names = "--data-dir", description = "folder with the Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)")
    Path dataDir;

    @Option(names = "--config", defaultValue = "small", description = "model: small | tiny | cifar10 | mlp | path/to/config.json (default ${DEFAULT-VALUE})")
    String config;

    @Option(names = "--class-conditional", description = "add a class embedding (labels from the data)")
    boolean classConditional;

    @Option(names = "--objective", description = "epsilon (DDPM loss, default) | flow (flow matching, linear path) | consistency "
            + "(consistency training, improved-CT levels); a resumed run keeps its own")
    String objective;

    @Option(names = "--steps", defaultValue = "1000") int steps;
    @Option(names = "--batch", defaultValue = "64") int batch;
    @Option(names = "--lr", defaultValue = "2e-4") double lr;
    @Option(names = "--warmup", defaultValue = "100", description = "linear LR warm-up steps") int warmup;
    @Option(names = "--ema", defaultValue = "0.999", description = "EMA decay of the weights used for sampling") double ema;
    @Option(names = "--seed", defaultValue = "0") long seed;
    @Option(names = "--device", defaultValue = "auto", description = "auto | java | cl | cl:gpu | cl:cpu | cl:P:I") String device;
    @Option(names = "--out", required = true, description = "run folder, e.g. runs/fmnist-small") Path out;
    @Option(names = "--resume", description = "continue from the latest checkpoint in --out") boolean resume;
    @Option(names = "--log-every", defaultValue = "25") int logEvery;
    @Option(names = "--sample-every", defaultValue = "500", description = "write a sample grid every K steps (0: never)") int sampleEvery;
    @Option(names = "--checkpoint-every", defaultValue = "500") int checkpointEvery;
    @Option(names = "--vae", description = "latent diffusion: train on the scaled latents of this AutoencoderKL folder (from 'diffuse train-vae'); "
            + "--config then defaults to latent; checkpoints carry the VAE and sample grids are decoded") Path vae;

    @Override
    public Integer call() throws Exception {
        Path resumeFrom = resume ? Trainer.latestCheckpoint(out) : null;
        if (resume && resumeFrom == null) throw new IllegalArgumentException("--resume: no checkpoint-N folder in " + out);
        if (!resume && Files.isDirectory(out) && Trainer.latestCheckpoint(out) != null)
            throw new IllegalArgumentException(out + " already holds checkpoints: pass --resume to continue, or choose another --out");
        ModelObjective.Kind kind = objectiveKind(resumeFrom);
        Device d = Devices.select(device);
        Dataset pixels = Datasets.open(data, dataDir);
        LatentTraining latent = LatentTraining.open(vae, resumeFrom, out, pixels, data, d);
        if (latent != null && kind == ModelObjective.Kind.CONSISTENCY)
            throw new IllegalArgumentException("--vae: consistency training in latent space is not supported; use --objective epsilon or flow");
        if (latent != null && config.equals("small")) config = "latent";
        Dataset ds = latent == null ? pixels : latent.data();
        if (kind == ModelObjective.Kind.CONSISTENCY) return trainConsistency(d, ds, resumeFrom);
        TrainConfig cfg = resumeFrom != null ? Trainer.readConfig(resumeFrom).withSteps(steps)
                : TrainConfig.defaults(steps, batch).withLr(lr, warmup).withEma(ema).withSeed(seed).withEvery(logEvery, sampleEvery, checkpointEvery)
                        .withObjective(kind == ModelObjective.Kind.FLOW ? TrainConfig.Objective.FLOW : TrainConfig.Objective.EPSILON);
        ModelObjective obj = ModelObjective.of(cfg);
        System.out.println("device: " + d.id() + "  " + d.name());
        System.out.println("data:   " + ds.description());
        try (TrainableModel model = newModel(resumeFrom, ds, classConditional, d, cfg.batch(), cfg.seed());
             Trainer tr = new Trainer(model, ds, cfg)) {
            System.out.printf(Locale.ROOT, "model:  %s, %,d parameters, objective %s%n", config, Models.parameterCount(model), obj.label());
            if (resumeFrom != null) {
                tr.load(resumeFrom);
                System.out.println("resumed from " + resumeFrom + " at step " + tr.step());
            }
            Files.createDirectories(out.resolve("samples"));
            ProgressBar bar = progressBar(cfg.steps());
            bar.stepTo(tr.step());
            tr.dataSpec(data).outputDir(out).configWriter(f -> {
                Models.writeConfig(model, f);
                if (latent != null) latent.install(f);
            }).listener(new TrainListener() {
                @Override
                public void onStep(int step, int total, double loss, double rate) {
                    bar.stepTo(step);
                }

                @Override
                public void onLoss(int step, double loss) {
                    bar.setExtraMessage(String.format(Locale.ROOT, "loss %.4f", loss));
                }

                @Override
                public void onSampleDue(int step, Trainer t) {
                    t.withEmaWeights(() -> writeSamples(model, obj, t.config().schedule(), ds, out.resolve("samples/step-" + step + ".png"), seed, latent));
                }
            });
            try {
                tr.run();
            } finally {
                bar.close();
            }
            tr.writeLossCurve(out.resolve("loss.png"));
            if (sampleEvery > 0) tr.withEmaWeights(() -> writeSamples(model, obj, tr.config().schedule(), ds, out.resolve("samples/final.png"), seed, latent));
            System.out.println("wrote " + out.resolve("loss.png") + ", checkpoints and samples under " + out);
        }
        return 0;
    }

    /** A new model for training, or for resuming {@code resumeFrom} (its own config.json), sized for {@code batch} rows. */
    private TrainableModel newModel(Path resumeFrom, Dataset ds, boolean conditional, Device d, int batch, long seed) throws java.io.IOException {
        return Models.create(resumeFrom != null ? modelConfigOf(resumeFrom) : config, ds.sampleShape(), ds.numClasses(), conditional, d, batch, seed);
    }

    /** The training progress bar: on a terminal it redraws in place; in a log (no console) it prints one line every 10 s. */
    static ProgressBar progressBar(int steps) {
        ProgressBarBuilder pb = new ProgressBarBuilder().setTaskName("train").setInitialMax(steps).setStyle(ProgressBarStyle.ASCII)
                .showSpeed().setSpeedUnit(java.time.temporal.ChronoUnit.SECONDS);
        if (System.console() == null)
            pb.setConsumer(new me.tongfei.progressbar.DelegatingProgressBarConsumer(System.out::println)).setUpdateIntervalMillis(10_000);
        else pb.setUpdateIntervalMillis(500);
        return pb.build();
    }

    /** The model config a checkpoint was trained with: "mlp" or the checkpoint's own config.json. */
    private static String modelConfigOf(Path checkpoint) throws java.io.IOException {
        return Models.className(checkpoint).equals("UNet2DModel") ? checkpoint.resolve("config.json").toString() : "mlp";
    }

    /**
     * 64 samples (2000 for vector data) as an image grid or a scatter: epsilon models with 50-step DDIM (x0 clipped to
     * [-1, 1] for images, as diffusers' DDIM does by default), flow models with 25-step flow-heun, consistency models
     * in one step.
     */
    static void writeSamples(TrainableModel model, ModelObjective obj, dev.diffuse.samplers.schedule.DiscreteSchedule schedule, Dataset ds, Path png,
                             long seed, LatentTraining latent) {
        writeSamples(model, obj, schedule, ds, png, seed, latent, 1);
    }

    /** As above; a distilled consistency model samples with {@code consistencySteps} steps. */
    static void writeSamples(TrainableModel model, ModelObjective obj, dev.diffuse.samplers.schedule.DiscreteSchedule schedule, Dataset ds, Path png,
                             long seed, LatentTraining latent, int consistencySteps) {
        int n = ds.sampleShape().length == 3 ? 64 : 2000;
        boolean images = ds.sampleShape().length == 3 && latent == null;  // x0 clipping to [-1, 1] is for pixels, not latents
        Sampler s = switch (obj.kind()) {
            case EPSILON -> Samplers.create("ddim", new Samplers.Options(50, 0, "linear", images, 0.01, 20, 0.01, 1));
            case FLOW -> Samplers.create("flow-heun", Samplers.Options.defaults(25));
            case CONSISTENCY -> ConsistencySampler.oneStep(obj.sigmaMax(), obj.sigmaMin());
            case CONSISTENCY_DDPM -> ModelSamplers.create(obj, "consistency", new Samplers.Options(consistencySteps, 0, "linear", images, 0.01, 80, 0.01, 1));
        };
        int[] shape = new int[ds.sampleShape().length + 1];
        shape[0] = n;
        System.arraycopy(ds.sampleShape(), 0, shape, 1, ds.sampleShape().length);
        try (NetworkDenoiser den = ModelSamplers.denoiser(model, obj, schedule, -1);
             Workspace ws = new Workspace(model.device(), "train samples", 8L * dev.diffuse.runtime.Tensor.numel(shape) + (1 << 20))) {
            dev.diffuse.runtime.Tensor t = s.sample(den, ws, seed, shape);
            float[] x = latent == null ? t.toArray() : latent.decode(t, model.device());
            Outputs.writeSamples(png, x, latent == null ? shape : new int[]{n, x.length / (n * latent.crop() * latent.crop()), latent.crop(), latent.crop()});
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
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

    /**
     * Consistency training of the model on images (or vectors) with improved-CT level sampling: sigma 0.002..80,
     * sigma_data 0.5 for images in [-1, 1] (the data's std for vector data), N from 10 to 80, log-normal levels
     * P_mean -1.1 + ln(sigma_data / 0.5), P_std 2, mu0 = 0, grad clip 1 ({@link ConsistencyConfig#images}).
     * Checkpoints hold the target weights for sampling and the full state for --resume.
     */
    private int trainConsistency(Device d, Dataset ds, Path resumeFrom) throws Exception {
        boolean images = ds.sampleShape().length == 3;
        double sd = images ? 0.5 : ConsistencyTrainer.dataStd(ds, 10_000);
        ConsistencyConfig cfg = resumeFrom != null ? ConsistencyTrainer.readConfig(resumeFrom).withSteps(steps)
                : ConsistencyConfig.images(steps, batch, lr, warmup, sd, seed, logEvery);
        double[] levels = resumeFrom != null ? ConsistencyTrainer.readLevels(resumeFrom) : new double[]{-1.1 + Math.log(sd / 0.5), 2.0};
        System.out.println("device: " + d.id() + "  " + d.name());
        System.out.println("data:   " + ds.description());
        try (TrainableModel model = newModel(resumeFrom, ds, false, d, cfg.batch(), cfg.seed());
             ConsistencyTrainer tr = new ConsistencyTrainer(model, ds, cfg)) {
            if (levels != null) tr.lognormalLevels(levels[0], levels[1]);
            System.out.printf(Locale.ROOT, "model:  %s, %,d parameters, objective consistency (sigma %.3g..%.3g, sigma_data %.3g, N %d..%d)%n",
                    config, Models.parameterCount(model), cfg.sigmaMin(), cfg.sigmaMax(), cfg.sigmaData(), cfg.s0(), cfg.s1());
            if (resumeFrom != null) {
                tr.load(resumeFrom);
                System.out.println("resumed from " + resumeFrom + " at step " + tr.step());
            }
            Files.createDirectories(out.resolve("samples"));
            ModelObjective obj = tr.objective();
            try (ProgressBar bar = progressBar(cfg.steps())) {
                bar.stepTo(tr.step());
                while (tr.step() < cfg.steps()) {
                    int next = Math.min(cfg.steps(), tr.step() + 1);
                    tr.runUntil(next);
                    bar.stepTo(next);
                    double[] lv = tr.lossValues();
                    if (lv.length > 0) bar.setExtraMessage(String.format(Locale.ROOT, "loss %.4f", lv[lv.length - 1]));
                    if (sampleEvery > 0 && next % sampleEvery == 0 && next < cfg.steps())
                        tr.withTargetWeights(() -> writeSamples(model, obj, null, ds, out.resolve("samples/step-" + next + ".png"), seed, null));
                    if ((checkpointEvery > 0 && next % checkpointEvery == 0) || next == cfg.steps())
                        tr.save(out.resolve("checkpoint-" + next), f -> Models.writeConfig(model, f), data);
                }
            }
            if (tr.lossValues().length > 0) LossCurve.write(out.resolve("loss.png"), tr.lossSteps(), tr.lossValues(), "consistency training loss");
            if (sampleEvery > 0) tr.withTargetWeights(() -> writeSamples(model, obj, null, ds, out.resolve("samples/final.png"), seed, null));
            System.out.println("wrote " + out.resolve("loss.png") + ", checkpoints and samples under " + out);
        }
        return 0;
    }
}
