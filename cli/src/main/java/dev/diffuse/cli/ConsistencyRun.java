package dev.diffuse.cli;

import java.nio.file.Path;
import java.util.Locale;

import dev.diffuse.models.consistency.ConsistencyConfig;
import dev.diffuse.models.consistency.ConsistencyTrainer;
import dev.diffuse.models.data.Dataset;
import dev.diffuse.models.data.Datasets;
import dev.diffuse.models.train.CheckpointFolders;
import dev.diffuse.cli.plot.LossCurve;
import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.models.train.TrainableModel;
import dev.diffuse.runtime.Device;
import me.tongfei.progressbar.ProgressBar;

/**
 * {@code diffuse train --objective consistency}: consistency training of the model on images (or vectors) with
 * improved-CT level sampling: sigma 0.002..80, sigma_data 0.5 for images in [-1, 1] (the data's std for vector data),
 * N from 10 to 80, log-normal levels P_mean -1.1 + ln(sigma_data / 0.5), P_std 2, mu0 = 0, grad clip 1
 * ({@link ConsistencyConfig#images}). Checkpoints hold the target weights for sampling and the full state for --resume.
 */
final class ConsistencyRun {
    private final TrainCommand c;
    private final ResumeFlags flags;

    ConsistencyRun(TrainCommand command, ResumeFlags flags) {
        this.c = command;
        this.flags = flags;
    }

    int train(Device d, Path resumeFrom) throws Exception {
        if (c.emaGiven())
            throw new IllegalArgumentException("--ema applies to the epsilon and flow objectives; consistency training keeps its target "
                    + "network with its own schedule (mu0 = 0): drop --ema");
        ConsistencyConfig cfg = resumeFrom != null ? resumed(ConsistencyTrainer.readConfig(resumeFrom)) : null;
        Dataset ds = Datasets.open(c.data(), c.dataDir());
        boolean images = ds.sampleShape().length == 3;
        if (cfg == null) {
            double sd = images ? 0.5 : ConsistencyTrainer.dataStd(ds, 10_000);
            cfg = ConsistencyConfig.images(c.steps(), c.batch(), c.lr(), c.warmup(), sd, c.seed(), c.logEvery());
        }
        double[] levels = resumeFrom != null ? ConsistencyTrainer.readLevels(resumeFrom) : new double[]{-1.1 + Math.log(cfg.sigmaData() / 0.5), 2.0};
        System.out.println("device: " + d.id() + "  " + d.name());
        System.out.println("data:   " + ds.description());
        TrainModels.Plan plan = c.plan(flags, resumeFrom, ds);
        long slab = plan.parameters();
        TrainCommand.requireMemory(d, plan, ds, cfg.batch(), 4L * (4L * slab + 10L * cfg.batch() * ds.sampleNumel() + 4L * cfg.batch() + 64) + (16L << 20));
        Path out = c.out();
        TrainProgress progress = new TrainProgress();
        try (TrainableModel model = plan.create(d, cfg.batch(), cfg.seed());
             ConsistencyTrainer tr = new ConsistencyTrainer(model, ds, cfg).outputDir(out)) {
            if (levels != null) tr.lognormalLevels(levels[0], levels[1]);
            System.out.printf(Locale.ROOT, "model:  %s, objective consistency (sigma %.3g..%.3g, sigma_data %.3g, N %d..%d)%n",
                    plan.describe(), cfg.sigmaMin(), cfg.sigmaMax(), cfg.sigmaData(), cfg.s0(), cfg.s1());
            if (resumeFrom != null) {
                tr.load(resumeFrom);
                System.out.println("resumed from " + resumeFrom + " at step " + tr.step() + " of " + cfg.steps());
            }
            ModelObjective obj = tr.objective();
            try (ProgressBar bar = TrainProgress.bar(cfg.steps())) {
                bar.stepTo(tr.step());
                while (tr.step() < cfg.steps()) {
                    int next = Math.min(cfg.steps(), tr.step() + 1);
                    tr.runUntil(next);
                    bar.stepTo(next);
                    double[] lv = tr.lossValues();
                    if (lv.length > 0) bar.setExtraMessage(TrainProgress.lossMessage(lv[lv.length - 1]));
                    if (c.sampleEvery() > 0 && next % c.sampleEvery() == 0 && next < cfg.steps())
                        tr.withTargetWeights(() -> progress.write(model, obj, null, ds, out.resolve("samples/step-" + next + ".png"), c.seed(), c.sampleN()));
                    if ((c.checkpointEvery() > 0 && next % c.checkpointEvery() == 0) || next == cfg.steps()) {
                        tr.save(out.resolve("checkpoint-" + next), f -> Models.writeConfig(model, f), c.data(), c.recordedDataDir());
                        CheckpointFolders.prune(out, c.keepLast(), next);
                    }
                }
            }
            if (tr.lossValues().length > 0) LossCurve.write(out.resolve("loss.png"), tr.lossSteps(), tr.lossValues(), "consistency training loss");
            if (c.sampleEvery() > 0)
                tr.withTargetWeights(() -> progress.write(model, obj, null, ds, out.resolve("samples/final.png"), c.seed(), c.sampleN()));
            System.out.println(c.written(progress));
        }
        return 0;
    }

    /** The recorded config with the flags given on --resume applied (conflicts are collected by {@link ResumeFlags}). */
    private ConsistencyConfig resumed(ConsistencyConfig r) {
        int b = flags.pick("--batch", c.batch(), r.batch());
        double l = flags.pick("--lr", c.lr(), r.lr());
        int w = flags.pick("--warmup", c.warmup(), r.warmupSteps());
        long s = flags.pick("--seed", c.seed(), r.seed());
        flags.check();
        return new ConsistencyConfig(flags.given("--steps") ? c.steps() : r.steps(), b, l, w, r.sigmaMin(), r.sigmaMax(), r.rho(), r.sigmaData(),
                r.s0(), r.s1(), r.mu0(), r.gradClip(), s, flags.given("--log-every") ? c.logEvery() : r.logEvery());
    }
}
