package dev.diffuse.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.diffuse.models.data.Dataset;
import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.models.train.NetworkDenoiser;
import dev.diffuse.models.train.TrainableModel;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.guidance.ConditionalDenoiser;
import dev.diffuse.samplers.Samplers;
import dev.diffuse.samplers.consistency.ConsistencySampler;
import dev.diffuse.samplers.schedule.DiscreteSchedule;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** What {@code diffuse train} shows and writes along the way: the progress bar, sample grids, and the list of outputs. */
final class TrainProgress {
    /** Images in a sample grid by default (vector data: {@link #VECTOR_POINTS} points). */
    static final int DEFAULT_IMAGES = 16;
    static final int VECTOR_POINTS = 2000;

    private final List<String> samples = new ArrayList<>();

    /** The training progress bar: on a terminal it redraws in place; in a log (no console) it prints one line every 10 s. */
    static ProgressBar bar(int steps) {
        ProgressBarBuilder pb = new ProgressBarBuilder().setTaskName("train").setInitialMax(steps).setStyle(ProgressBarStyle.ASCII)
                .showSpeed().setSpeedUnit(java.time.temporal.ChronoUnit.SECONDS);
        if (System.console() == null)
            pb.setConsumer(new me.tongfei.progressbar.DelegatingProgressBarConsumer(System.out::println)).setUpdateIntervalMillis(10_000);
        else pb.setUpdateIntervalMillis(500);
        return pb.build();
    }

    /** The bar's text after the rate: a space, then the loss (the bar prints it right after "/s"). */
    static String lossMessage(double loss) { return String.format(Locale.ROOT, " loss %.4f", loss); }

    /**
     * Writes {@code n} samples (null: {@link #DEFAULT_IMAGES} images, {@link #VECTOR_POINTS} points for vector data) as an
     * image grid or a scatter: epsilon models with 25-step DDIM (x0 clipped to [-1, 1] for images, as diffusers' DDIM
     * does by default), flow models with 12-step flow-heun (25 evaluations), consistency models in one step.
     */
    void write(TrainableModel model, ModelObjective obj, DiscreteSchedule schedule, Dataset ds, Path png, long seed, Integer n) {
        write(model, obj, schedule, ds, png, seed, n, null, 1);
    }

    /** {@link #write} for a latent model (samples decoded by {@code latent}, no x0 clipping; null: pixel space). */
    void write(TrainableModel model, ModelObjective obj, DiscreteSchedule schedule, Dataset ds, Path png, long seed, Integer n, LatentTraining latent) {
        write(model, obj, schedule, ds, png, seed, n, latent, 1);
    }

    /** As above; a distilled consistency model (consistency_ddpm) samples with {@code consistencySteps} steps. */
    void write(TrainableModel model, ModelObjective obj, DiscreteSchedule schedule, Dataset ds, Path png, long seed, Integer n,
               LatentTraining latent, int consistencySteps) {
        boolean images = ds.sampleShape().length == 3 && latent == null;  // x0 clipping to [-1, 1] is for pixels, not latents
        int count = n != null ? n : ds.sampleShape().length == 3 ? DEFAULT_IMAGES : VECTOR_POINTS;
        Sampler s = switch (obj.kind()) {
            case EPSILON -> Samplers.create("ddim", new Samplers.Options(25, 0, "linear", images, 0.01, 20, 0.01, 1));
            case FLOW -> Samplers.create("flow-heun", Samplers.Options.defaults(12));
            case CONSISTENCY -> ConsistencySampler.oneStep(obj.sigmaMax(), obj.sigmaMin());
            case CONSISTENCY_DDPM -> ModelSamplers.create(obj, "consistency", new Samplers.Options(consistencySteps, 0, "linear", images, 0.01, 80, 0.01, 1));
        };
        int[] shape = new int[ds.sampleShape().length + 1];
        shape[0] = count;
        System.arraycopy(ds.sampleShape(), 0, shape, 1, ds.sampleShape().length);
        try (NetworkDenoiser den = ModelSamplers.denoiser(model, obj, schedule, -1);
             Workspace ws = new Workspace(model.device(), "train samples", 8L * Tensor.numel(shape) + 4L * count + (1 << 20))) {
            // a class-conditional model draws image k of class k mod (the data's classes), never the "no class" row
            int classes = model.numClasses() > 0 ? Math.max(1, Math.min(model.numClasses(), ds.numClasses())) : 0;
            Denoiser d = classes == 0 ? den : ConditionalDenoiser.labelled((ConditionalDenoiser) den, ws,
                    java.util.stream.IntStream.range(0, count).map(k -> k % classes).toArray());
            Tensor t = s.sample(d, ws, seed, shape);
            float[] x = latent == null ? t.toArray() : latent.decode(t, model.device());
            Outputs.writeSamples(png, x, latent == null ? shape : new int[]{count, x.length / (count * latent.crop() * latent.crop()), latent.crop(), latent.crop()});
            samples.add(png.getFileName().toString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** "samples/step-1000.png, samples/final.png" or "no sample grids (--sample-every 0)". */
    String samplesWritten() {
        if (samples.isEmpty()) return "no sample grids (--sample-every 0)";
        return samples.size() <= 3 ? "samples/" + String.join(", samples/", samples)
                : samples.size() + " sample grids in samples/ (last: " + samples.getLast() + ")";
    }
}
