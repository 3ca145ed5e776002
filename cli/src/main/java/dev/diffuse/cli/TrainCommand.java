package dev.diffuse.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import dev.diffuse.models.data.Dataset;
import dev.diffuse.models.data.Datasets;
import dev.diffuse.models.train.ModelDenoiser;
import dev.diffuse.models.train.TrainConfig;
import dev.diffuse.models.train.TrainListener;
import dev.diffuse.models.train.TrainableModel;
import dev.diffuse.models.train.Trainer;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Devices;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.Samplers;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code diffuse train}: DDPM training with a progress bar, sample grids, checkpoints and a loss curve. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a diffusion model (epsilon prediction, DDPM loss) with manual backprop on the chosen device.")
public final class TrainCommand implements Callable<Integer> {
    @Option(names = "--data", defaultValue = "fashion-mnist", description = "fashion-mnist[:train|:test] | png:DIR | ring8 | aniso2d | ... (default ${DEFAULT-VALUE})")
    String data;

    @Option(names = "--data-dir", description = "folder with the Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)")
    Path dataDir;

    @Option(names = "--config", defaultValue = "small", description = "model: small | tiny | cifar10 | mlp | path/to/config.json (default ${DEFAULT-VALUE})")
    String config;

    @Option(names = "--class-conditional", description = "add a class embedding (labels from the data)")
    boolean classConditional;

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

    @Override
    public Integer call() throws Exception {
        Device d = Devices.select(device);
        Dataset ds = Datasets.open(data, dataDir);
        Path resumeFrom = resume ? Trainer.latestCheckpoint(out) : null;
        if (resume && resumeFrom == null) throw new IllegalArgumentException("--resume: no checkpoint-N folder in " + out);
        if (!resume && Files.isDirectory(out) && Trainer.latestCheckpoint(out) != null)
            throw new IllegalArgumentException(out + " already holds checkpoints: pass --resume to continue, or choose another --out");
        TrainConfig cfg = resumeFrom != null ? Trainer.readConfig(resumeFrom).withSteps(steps)
                : TrainConfig.defaults(steps, batch).withLr(lr, warmup).withEma(ema).withSeed(seed).withEvery(logEvery, sampleEvery, checkpointEvery);
        System.out.println("device: " + d.id() + "  " + d.name());
        System.out.println("data:   " + ds.description());
        try (TrainableModel model = resumeFrom != null ? Models.create(modelConfigOf(resumeFrom), ds.sampleShape(), ds.numClasses(), classConditional, d, cfg.batch(), cfg.seed())
                : Models.create(config, ds.sampleShape(), ds.numClasses(), classConditional, d, cfg.batch(), cfg.seed());
             Trainer tr = new Trainer(model, ds, cfg)) {
            System.out.printf(Locale.ROOT, "model:  %s, %,d parameters%n", config, Models.parameterCount(model));
            if (resumeFrom != null) {
                tr.load(resumeFrom);
                System.out.println("resumed from " + resumeFrom + " at step " + tr.step());
            }
            Files.createDirectories(out.resolve("samples"));
            // On a terminal the bar redraws in place; in a log (no console) it prints one line every 10 s instead.
            ProgressBarBuilder pb = new ProgressBarBuilder().setTaskName("train").setInitialMax(cfg.steps()).setStyle(ProgressBarStyle.ASCII)
                    .showSpeed().setSpeedUnit(java.time.temporal.ChronoUnit.SECONDS);
            if (System.console() == null)
                pb.setConsumer(new me.tongfei.progressbar.DelegatingProgressBarConsumer(System.out::println)).setUpdateIntervalMillis(10_000);
            else pb.setUpdateIntervalMillis(500);
            ProgressBar bar = pb.build();
            bar.stepTo(tr.step());
            tr.dataSpec(data).outputDir(out).configWriter(f -> Models.writeConfig(model, f)).listener(new TrainListener() {
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
                    t.withEmaWeights(() -> writeSamples(model, t.config().schedule(), ds, out.resolve("samples/step-" + step + ".png"), seed));
                }
            });
            try {
                tr.run();
            } finally {
                bar.close();
            }
            tr.writeLossCurve(out.resolve("loss.png"));
            if (sampleEvery > 0) tr.withEmaWeights(() -> writeSamples(model, tr.config().schedule(), ds, out.resolve("samples/final.png"), seed));
            System.out.println("wrote " + out.resolve("loss.png") + ", checkpoints and samples under " + out);
        }
        return 0;
    }

    /** The model config a checkpoint was trained with: "mlp" or the checkpoint's own config.json. */
    private static String modelConfigOf(Path checkpoint) throws java.io.IOException {
        return Models.className(checkpoint).equals("UNet2DModel") ? checkpoint.resolve("config.json").toString() : "mlp";
    }

    /** 64 samples with 50-step DDIM (x0 clipped to [-1, 1] for images): an image grid for image data, a scatter for 2-D data. */
    static void writeSamples(TrainableModel model, dev.diffuse.samplers.schedule.DiscreteSchedule schedule, Dataset ds, Path png, long seed) {
        int n = ds.sampleShape().length == 3 ? 64 : 2000;
        // images live in [-1, 1]: clip the predicted x0 there, as diffusers' DDIM does by default (clip_sample)
        boolean images = ds.sampleShape().length == 3;
        Sampler s = Samplers.create("ddim", new Samplers.Options(50, 0, "linear", images, 0.01, 20, 0.01, 1));
        int[] shape = new int[ds.sampleShape().length + 1];
        shape[0] = n;
        System.arraycopy(ds.sampleShape(), 0, shape, 1, ds.sampleShape().length);
        try (ModelDenoiser den = new ModelDenoiser(model, schedule);
             Workspace ws = new Workspace(model.device(), "train samples", 8L * dev.diffuse.runtime.Tensor.numel(shape) + (1 << 20))) {
            float[] x = s.sample(den, ws, seed, shape).toArray();
            Outputs.writeSamples(png, x, shape);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
