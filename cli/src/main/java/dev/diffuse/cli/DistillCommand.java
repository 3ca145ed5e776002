package dev.diffuse.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import dev.diffuse.models.data.Dataset;
import dev.diffuse.models.data.Datasets;
import dev.diffuse.models.distill.ConsistencyDistiller;
import dev.diffuse.models.distill.DistillConfig;
import dev.diffuse.models.io.FileHash;
import dev.diffuse.models.train.Checkpoints;
import dev.diffuse.cli.plot.LossCurve;
import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.models.train.TrainableModel;
import dev.diffuse.models.unet.UNetCheckpoint;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Devices;
import dev.diffuse.samplers.schedule.DiscreteSchedule;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code diffuse distill}: consistency distillation of an epsilon U-Net (e.g. pretrained/fashion-mnist-small) into a
 * student of the same architecture that samples in 1-4 network evaluations ({@link ConsistencyDistiller}); checkpoints
 * hold the target weights as a UNet2DModel folder with objective.json (consistency_ddpm) and resume bit for bit.
 */
@Command(name = "distill", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Consistency distillation of an epsilon-prediction U-Net into a 1-4 step student (one teacher DDIM step between adjacent "
                + "levels of the teacher's DDIM grid, EMA target). Sample the result with 'diffuse sample --steps 1|2|4'.")
public final class DistillCommand implements Callable<Integer> {
    @Mixin RunOptions run;

    @Option(names = "--teacher", description = "the teacher: a UNet2DModel folder trained with the epsilon objective (default ${DEFAULT-VALUE})",
            defaultValue = "pretrained/fashion-mnist-small") Path teacher;
    @Option(names = "--data", defaultValue = "fashion-mnist", description = "the teacher's training data (default ${DEFAULT-VALUE})") String data;
    @Option(names = "--steps", defaultValue = "2000", description = "total optimizer steps (default ${DEFAULT-VALUE})") int steps;
    @Option(names = "--batch", defaultValue = "32", description = "samples per step (default ${DEFAULT-VALUE})") int batch;
    @Option(names = "--lr", defaultValue = "5e-5", description = "Adam learning rate after warm-up; the student starts from the teacher "
            + "(default ${DEFAULT-VALUE})") double lr;
    @Option(names = "--warmup", defaultValue = "50") int warmup;
    @Option(names = "--teacher-steps", defaultValue = "25", description = "N: the grid t = 0, 1000/N, ... and the teacher's DDIM step between "
            + "levels (default ${DEFAULT-VALUE}: the teacher's DDIM-25 trajectory)") int teacherSteps;
    @Option(names = "--top", defaultValue = "760", description = "highest grid level, where sampling starts from noise (default ${DEFAULT-VALUE}: "
            + "starting the teacher's DDIM there costs 0.011 sliced-W2, and x0 = (x - sigma eps) / alpha is 6x better conditioned than at 960)") int top;
    @Option(names = "--target-decay", defaultValue = "0.95", description = "EMA decay of the target network (default ${DEFAULT-VALUE})") double targetDecay;
    @Option(names = "--sample-every", defaultValue = "500", description = "1- and 2-step sample grids every K steps (0: only at the end)")
    int sampleEvery;

    @Override
    public Integer call() throws Exception {
        Path resumeFrom = run.resumeFrom();
        Path out = run.out;
        long seed = run.seed;
        DistillConfig cfg;
        String spec = data;
        Path teacherDir = teacher;
        if (resumeFrom != null) {
            var meta = ConsistencyDistiller.metadata(resumeFrom);
            cfg = ConsistencyDistiller.readConfig(resumeFrom).withSteps(steps);
            spec = meta.getOrDefault("data_spec", data);
            String id = meta.getOrDefault("teacher", "");
            teacherDir = Path.of(id.substring(id.indexOf(' ') + 1));
        } else {
            cfg = new DistillConfig(steps, batch, lr, warmup, teacherSteps, top, targetDecay, 0.5, true, 1.0, seed, run.logEvery);
        }
        if (ModelObjective.read(UNetCheckpoint.modelFolder(Models.resolve(teacherDir))).kind() != ModelObjective.Kind.EPSILON)
            throw new IllegalArgumentException("--teacher " + teacherDir + " is not an epsilon-prediction model; distillation needs one");
        Path teacherFolder = UNetCheckpoint.modelFolder(Models.resolve(teacherDir));
        String teacherId = "sha256:" + FileHash.sha256(teacherFolder.resolve(Checkpoints.WEIGHTS)) + " " + teacherFolder.toAbsolutePath().normalize();
        if (resumeFrom != null && !teacherId.equals(ConsistencyDistiller.metadata(resumeFrom).get("teacher")))
            throw new IllegalArgumentException("--resume: the teacher changed since " + resumeFrom + " was written (" + teacherId + " vs "
                    + ConsistencyDistiller.metadata(resumeFrom).get("teacher") + ")");
        Device d = Devices.select(run.device);
        Dataset ds = Datasets.open(spec, null);
        System.out.println("device:  " + d.id() + "  " + d.name());
        System.out.println("data:    " + ds.description());
        System.out.println("teacher: " + teacherId);
        try (TrainableModel t = Models.load(teacherFolder, d, cfg.batch());
             TrainableModel student = Models.create(teacherFolder.resolve("config.json").toString(), ds.sampleShape(), 0, false, d, cfg.batch(), cfg.seed());
             ConsistencyDistiller cd = new ConsistencyDistiller(student, t, ds, cfg)) {
            System.out.printf(Locale.ROOT, "student: %,d parameters, from the teacher's weights; grid 0..%d (stride %d), target decay %.3g, "
                    + "lr %.3g, batch %d%n", Models.parameterCount(student), cfg.topTimestep(), cfg.stride(), cfg.targetDecay(), cfg.lr(), cfg.batch());
            if (resumeFrom != null) {
                cd.load(resumeFrom);
                System.out.println("resumed from " + resumeFrom + " at step " + cd.step());
            }
            Files.createDirectories(out.resolve("samples"));
            ProgressBar bar = TrainProgress.bar(cfg.steps());
            bar.stepTo(cd.step());
            long t0 = System.nanoTime();
            String dataSpec = spec;
            try {
                while (cd.step() < cfg.steps()) {
                    int next = Math.min(cfg.steps(), (cd.step() / run.checkpointEvery + 1) * run.checkpointEvery);
                    cd.runUntil(next, (l, st) -> {
                        bar.stepTo(st);
                        bar.setExtraMessage(String.format(Locale.ROOT, " loss %.5f", l));
                    });
                    bar.stepTo(cd.step());
                    cd.save(out.resolve("checkpoint-" + cd.step()), f -> Models.writeConfig(student, f), teacherId, dataSpec);
                    run.prune(cd.step());
                    if ((sampleEvery > 0 && cd.step() % sampleEvery == 0) || cd.step() == cfg.steps()) grids(cd, student, ds, cd.step() == cfg.steps() ? "final" : "step-" + cd.step());
                }
            } finally {
                bar.close();
            }
            System.out.printf(Locale.ROOT, "distilled %d steps in %.0f s%n", cfg.steps(), (System.nanoTime() - t0) / 1e9);
            LossCurve.write(out.resolve("loss.png"), cd.lossSteps(), cd.lossValues());
            System.out.println("wrote " + out.resolve("loss.png") + ", checkpoints and samples under " + out);
        }
        return 0;
    }

    /** 64 samples with 1 and 2 steps from the target weights. */
    private void grids(ConsistencyDistiller cd, TrainableModel student, Dataset ds, String name) {
        ModelObjective obj = cd.objective();
        TrainProgress p = new TrainProgress();
        cd.withTargetWeights(() -> {
            p.write(student, obj, DiscreteSchedule.ddpmDefault(), ds, run.out.resolve("samples/" + name + "-1step.png"), run.seed, 64, null, 1);
            p.write(student, obj, DiscreteSchedule.ddpmDefault(), ds, run.out.resolve("samples/" + name + "-2step.png"), run.seed, 64, null, 2);
        });
    }
}
