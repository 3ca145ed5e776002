package dev.diffuse.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import dev.diffuse.models.data.Dataset;
import dev.diffuse.models.data.Datasets;
import dev.diffuse.models.data.PaddedImages;
import dev.diffuse.cli.plot.LossCurve;
import dev.diffuse.models.vae.AutoencoderKL;
import dev.diffuse.models.vae.AutoencoderKLConfig;
import dev.diffuse.models.vae.Latents;
import dev.diffuse.models.vae.VaeTrainConfig;
import dev.diffuse.models.vae.VaeTrainer;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Devices;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code diffuse train-vae}: trains a diffusers-layout AutoencoderKL (reconstruction MSE + a weighted KL term), with
 * checkpoints that are AutoencoderKL folders (EMA weights, scaling_factor measured on the training images) and resume
 * bit for bit; reports the per-pixel reconstruction MSE on test images and writes them beside their reconstructions.
 */
@Command(name = "train-vae", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a VAE (diffusers AutoencoderKL layout) for latent diffusion: reconstruction MSE + KL, AdamW, EMA; "
                + "images are padded to the VAE's sample_size (Fashion-MNIST 28 -> 32).")
public final class TrainVaeCommand implements Callable<Integer> {
    @Mixin RunOptions run;

    @Option(names = "--data", defaultValue = "fashion-mnist", description = "training images: fashion-mnist | png:DIR (default ${DEFAULT-VALUE}); "
            + "a resumed run keeps its own")
    String data;

    @Option(names = "--config", defaultValue = "fashion-mnist", description = "fashion-mnist (32x32x1 -> 4x8x8, 0.95 M parameters) | tiny | "
            + "path/to/config.json (default ${DEFAULT-VALUE})")
    String config;

    @Option(names = "--steps", defaultValue = "3000", description = "total optimizer steps (default ${DEFAULT-VALUE})") int steps;
    @Option(names = "--batch", defaultValue = "64", description = "images per step (default ${DEFAULT-VALUE})") int batch;
    @Option(names = "--lr", defaultValue = "1e-3", description = "AdamW learning rate after warm-up (default ${DEFAULT-VALUE})") double lr;
    @Option(names = "--warmup", defaultValue = "100", description = "linear warm-up steps (default ${DEFAULT-VALUE})") int warmup;
    @Option(names = "--kl-weight", defaultValue = "1e-3", description = "weight of the KL term per image against the summed squared error "
            + "(LDM's kl_weight; default ${DEFAULT-VALUE}, see VaeTrainConfig)") double klWeight;
    @Option(names = "--ema", defaultValue = "0.999", description = "EMA decay of the saved weights (default ${DEFAULT-VALUE})") double ema;

    /** Height of the data's own images (before padding to the VAE's sample_size). */
    private int inner;

    @Override
    public Integer call() throws Exception {
        Path resumeFrom = run.resumeFrom();
        Path out = run.out;
        long seed = run.seed;
        VaeTrainConfig cfg = resumeFrom != null ? VaeTrainer.readConfig(resumeFrom).withSteps(steps)
                : new VaeTrainConfig(steps, batch, lr, warmup, 0, klWeight, ema, 1.0, seed, run.logEvery, run.checkpointEvery);
        String spec = resumeFrom != null ? VaeTrainer.readDataSpec(resumeFrom) : data;
        AutoencoderKLConfig mc = resumeFrom != null ? AutoencoderKLConfig.read(resumeFrom.resolve("config.json")) : modelConfig(config);
        Device d = Devices.select(run.device);
        Dataset raw = Datasets.open(spec, null), train = PaddedImages.to(raw, mc.sampleSize());
        Dataset test = spec.startsWith("fashion-mnist") ? PaddedImages.to(Datasets.open("fashion-mnist:test", null), mc.sampleSize()) : train;
        if (raw.sampleShape().length != 3) throw new IllegalArgumentException("--data " + spec + " holds vectors, not images; a VAE needs images");
        inner = raw.sampleShape()[1];
        System.out.println("device: " + d.id() + "  " + d.name());
        System.out.println("data:   " + train.description());
        try (AutoencoderKL model = new AutoencoderKL(mc, d, cfg.batch(), true); VaeTrainer tr = new VaeTrainer(model, train, cfg)) {
            double[] f = AutoencoderKL.forwardFlops(mc, 1);
            System.out.printf(Locale.ROOT, "model:  AutoencoderKL %s, %,d parameters, latent %dx%dx%d, %.0f + %.0f MFLOP per image (encode + decode), "
                            + "KL weight %.3g%n", mc.blockOutChannels(), AutoencoderKL.parameterCount(mc), mc.latentChannels(), mc.latentSize(),
                    mc.latentSize(), f[0] / 1e6, f[1] / 1e6, cfg.klWeight());
            model.initialize(cfg.seed());
            if (resumeFrom != null) {
                tr.load(resumeFrom);
                System.out.println("resumed from " + resumeFrom + " at step " + tr.step());
            }
            tr.dataSpec(spec);
            ProgressBar bar = TrainProgress.bar(cfg.steps());
            bar.stepTo(tr.step());
            tr.listener(new VaeTrainer.Listener() {
                @Override public void onStep(int step, int total) { bar.stepTo(step); }

                @Override
                public void onLoss(int step, double rec, double kl) {
                    bar.setExtraMessage(String.format(Locale.ROOT, " recon MSE %.5f  KL/image %.1f", rec, kl));
                }
            });
            long t0 = System.nanoTime();
            try {
                while (tr.step() < cfg.steps()) {
                    int next = cfg.checkpointEvery() > 0 ? Math.min(cfg.steps(), (tr.step() / cfg.checkpointEvery() + 1) * cfg.checkpointEvery()) : cfg.steps();
                    tr.runUntil(next);
                    checkpoint(tr, test);
                }
            } finally {
                bar.close();
            }
            System.out.printf(Locale.ROOT, "trained %d steps in %.0f s%n", cfg.steps(), (System.nanoTime() - t0) / 1e9);
            LossCurve.write(out.resolve("loss.png"), tr.lossSteps(), tr.reconstructionLosses());
            System.out.println("wrote " + out.resolve("loss.png") + " and checkpoints under " + out);
        }
        return 0;
    }

    /** Saves checkpoint-STEP, then reports the EMA weights' reconstruction MSE on 256 test images and writes 16 of them. */
    private void checkpoint(VaeTrainer tr, Dataset test) throws java.io.IOException {
        Path folder = run.out.resolve("checkpoint-" + tr.step());
        double sf = tr.save(folder);
        run.prune(tr.step());
        int[] ids = Latents.spread(test.size(), 256);
        float[][] res = new float[2][];
        double[][] spread = new double[1][];
        tr.withEmaWeights(() -> {
            res[0] = Latents.reconstruct(tr.model(), test, ids);
            spread[0] = Latents.posteriorSpread(tr.model(), test, ids);
        });
        res[1] = new float[res[0].length];
        test.fill(ids, res[1], null);
        int[] s = test.sampleShape();
        double mse = ReconstructionReport.mse(res[1], res[0], ids.length, s[0], s[1], inner);
        System.out.printf(Locale.ROOT, "%nstep %d: reconstruction MSE per pixel on %d test images (%dx%d, values in [-1, 1]) %.5f; scaling factor %.4f; "
                + "posterior std %.4f (rms) next to latent-mean std %.4f; %s%n", tr.step(), ids.length, inner, inner, mse, sf, spread[0][0], spread[0][1], folder);
        ReconstructionReport.writeGrid(run.out.resolve("reconstructions-" + tr.step() + ".png"), res[1], res[0], 16, s[0], s[1], inner);
    }

    static AutoencoderKLConfig modelConfig(String name) throws java.io.IOException {
        return switch (name) {
            case "fashion-mnist" -> AutoencoderKLConfig.fashionMnist();
            case "tiny" -> AutoencoderKLConfig.tiny();
            default -> {
                Path p = Path.of(name);
                if (!Files.isRegularFile(p))
                    throw new IllegalArgumentException("unknown VAE config '" + name + "': use fashion-mnist, tiny or a path to an AutoencoderKL config.json");
                yield AutoencoderKLConfig.read(p);
            }
        };
    }
}
