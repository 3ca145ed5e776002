package dev.diffuse.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.diffuse.cli.plot.ScatterPlot;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Devices;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.Samplers;
import dev.diffuse.samplers.gmm.GaussianMixture;
import dev.diffuse.samplers.gmm.MixtureDenoisers;
import dev.diffuse.samplers.gmm.MixturePresets;
import dev.diffuse.samplers.metrics.SlicedWasserstein;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code diffuse sample}: draws samples from a trained model folder through the library's
 * {@link dev.diffuse.pipeline.DiffusionPipeline} ({@link ModelSampling}: streamed in batches, files written as they
 * go), or from an exact Gaussian mixture ({@code gmm[:preset]}), whose noised score is known in closed form, so the
 * sampler's own error is what shows. Output names are checked before any work.
 */
@Command(name = "sample", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Draw samples from a trained model (an image grid, or a scatter for vector data) or from an exact Gaussian mixture "
                + "(a scatter over the true density, with the sliced-W2 to exact samples).",
                "A model folder is a diffusers UNet2DModel folder, a checkpoint, or a training run folder (its latest checkpoint). "
                        + "Defaults for a model: 64 images with its objective's sampler at about 25 network evaluations (epsilon: ddim 25 steps; "
                        + "flow: flow-heun 12; consistency: 1 step). Large --n streams in batches: --save is written as it goes, the grid shows "
                        + "the first --grid-max images."},
        footer = {"", "Examples:",
                "  diffuse sample --model pretrained/fashion-mnist-small --out grid.png",
                "  diffuse sample --model runs/fmnist --n 20000 --save samples.npy --out grid.png",
                "  diffuse sample --model runs/fmnist-cond --class 3 --guidance 3 --out coats.png",
                "  diffuse sample --model gmm:aniso2d --sampler ddim --steps 100 --n 20000 --out aniso.png"})
public final class SampleCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", defaultValue = "gmm", paramLabel = "MODEL",
            description = "a model folder (diffusers UNet2DModel folder, checkpoint or run folder), or gmm[:preset] (presets: "
                    + "${COMPLETION-CANDIDATES}; gmm = gmm:ring8). Default: ${DEFAULT-VALUE}",
            completionCandidates = PresetNames.class)
    String model;

    @Option(names = "--n", paramLabel = "N", description = "number of samples (default: 64 for a model, 4000 for gmm)")
    Integer n;

    @Option(names = "--sampler", completionCandidates = SamplerNames.class,
            description = "one of: ${COMPLETION-CANDIDATES}, or consistency (default: the model's: ddim for epsilon models, flow-heun for "
                    + "flow models, consistency for consistency models; ode-heun for gmm)")
    String sampler;

    @Option(names = "--steps", description = "sampler steps (default: the model's: 25 for ddim, 12 for flow-heun, 1 for consistency, "
            + "25 for another sampler of a model; 50 for gmm)")
    Integer steps;

    @Option(names = "--seed", defaultValue = "0", description = "RNG seed; image k of a run depends only on the seed and k (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--class", paramLabel = "K", description = "class-conditional models: the class to draw (default: image k gets class k mod classes)")
    Integer classLabel;

    @Option(names = "--guidance", paramLabel = "S", description = "classifier-free guidance scale (diffusers' guidance_scale; 1 = none) for "
            + "class-conditional models trained with dropped labels")
    Double guidance;

    @Option(names = "--eta", description = "DDIM's eta, 0..1 (ddim and diffusers-ddim; default 0)")
    Double eta;

    @Option(names = "--no-clip", description = "image models: do not clip the predicted x0 to [-1, 1] (clipping is the default for ddpm/ddim)")
    boolean noClip;

    @Option(names = "--out", defaultValue = "samples.png", description = "PNG: the image grid, or the scatter (default ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--save", description = "also write every sample: .csv (one row per sample) or .npy (float32, shape (n, ...)), written as they are drawn")
    Path save;

    @Option(names = "--grid-max", defaultValue = "1024", description = "image models: the grid shows at most this many images, the first ones (default ${DEFAULT-VALUE})")
    int gridMax;

    @Option(names = "--batch", defaultValue = "64", description = "model folders: images per batched network evaluation (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--allow-nonfinite", description = "write the outputs even when samples hold NaN or infinite values (default: fail, writing nothing)")
    boolean allowNonfinite;

    @Option(names = "--reference", description = "model samples: also report the sliced-W2 in pixel space (over the first 10,000 samples) to this data "
            + "set (e.g. fashion-mnist:test) next to the same distance for real training images (fashion-mnist:train), at equal sizes")
    String reference;

    @Option(names = "--device", defaultValue = "auto", description = "auto | java | cl | cl:gpu | cl:cpu | cl:P:I (default ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--beta-schedule", description = "gmm: the ddpm/ddim schedule, linear | scaled_linear | cosine (a trained model keeps its own)")
    String betaSchedule;

    @Option(names = "--sigma-max", description = "gmm: sigma_max of the VE samplers and annealed Langevin (default: the data's diameter)")
    Double sigmaMax;

    static final class SamplerNames extends java.util.ArrayList<String> {
        SamplerNames() { super(Samplers.NAMES); }
    }

    static final class PresetNames extends java.util.ArrayList<String> {
        PresetNames() { super(MixturePresets.names()); }
    }

    /** Library field names to this command's flags, for messages. */
    static final Map<String, String> FLAGS = Map.of("n ", "--n ", "n: ", "--n: ", "steps ", "--steps ", "classLabel", "--class",
            "guidance", "--guidance", "eta ", "--eta ", "sampler ", "--sampler ");

    @Override
    public Integer call() throws IOException {
        SampleFiles.checkWritable("--out", out, List.of(".png"));
        if (save != null) SampleFiles.checkWritable("--save", save, List.of(".csv", ".npy"));
        if (gridMax < 1) throw new IllegalArgumentException("--grid-max must be at least 1, got " + gridMax);
        boolean gmm = model.equals("gmm") || model.startsWith("gmm:");
        try {
            return gmm ? sampleMixture() : new ModelSampling(this).run();
        } catch (IllegalArgumentException e) {
            String m = e.getMessage();
            for (var f : FLAGS.entrySet())
                if (m != null && m.startsWith(f.getKey())) throw new IllegalArgumentException(f.getValue() + m.substring(f.getKey().length()), e);
            throw e;
        }
    }

    PrintWriter err() { return spec != null ? spec.commandLine().getErr() : new PrintWriter(System.err, true); }

    /** Fails (writing nothing) when samples are not finite, unless --allow-nonfinite; then it warns. */
    void checkFinite(long bad, long total, String what) {
        if (bad == 0) return;
        String msg = String.format(Locale.ROOT, "%,d of %,d %s hold NaN or infinite values (the model or the sampler diverged)", bad, total, what);
        if (!allowNonfinite) throw new IllegalStateException(msg + "; nothing was written; --allow-nonfinite writes them anyway");
        System.out.println("warning: " + msg);
    }

    private int sampleMixture() throws IOException {
        for (Object[] o : new Object[][]{{"--class", classLabel}, {"--guidance", guidance}, {"--reference", reference}})
            if (o[1] != null) throw new IllegalArgumentException(o[0] + " applies to model folders, not to the " + model + " mixture");
        int count = n != null ? n : 4000, nSteps = steps != null ? steps : 50;
        if (count < 1) throw new IllegalArgumentException("--n must be at least 1, got " + count);
        if (nSteps < 1) throw new IllegalArgumentException("--steps must be at least 1, got " + nSteps);
        if (sampler == null) sampler = "ode-heun";
        GaussianMixture mixture = parseModel(model);
        int d = mixture.dim();
        float[] truth = mixture.sample(Math.max(count, 10_000), seed ^ 0x7A3Bl);
        double sMax = sigmaMax != null ? sigmaMax : diameter(truth, d);
        Sampler s = Samplers.create(sampler, new Samplers.Options(nSteps, eta != null ? eta : 0, betaSchedule != null ? betaSchedule : "linear",
                false, 0.01, sMax, 0.01, Math.sqrt(trace(mixture.covariance()) / d)));
        Device dev = Devices.select(device);
        System.out.println("device:  " + dev.id() + "  " + dev.name());
        String name = model.contains(":") ? model : model + ":" + MixturePresets.DEFAULT;
        System.out.printf(Locale.ROOT, "model:   %s (d=%d, %d components)%n", name, d, mixture.components());
        System.out.printf(Locale.ROOT, "sampler: %s, %d steps, %d evaluations%n", s.name(), nSteps, s.evaluations());

        float[] x;
        long bytes = Math.max(16L << 20, 8L * count * d * 4);
        try (var den = MixtureDenoisers.forSampler(mixture, dev, sampler);
             Workspace ws = new Workspace(dev, "sample", bytes)) {
            long t0 = System.nanoTime();
            x = s.sample(den, ws, seed, count, d).toArray(); // the only read-back, after the loop
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "sampled: %d in %.3f s (%.0f samples/s, includes program compilation on first use)%n", count, secs, count / secs);
        }
        long bad = 0;
        for (int i = 0; i < count; i++)
            for (int k = 0; k < d; k++)
                if (!Float.isFinite(x[i * d + k])) {
                    bad++;
                    break;
                }
        checkFinite(bad, count, "samples");
        double sw2 = SlicedWasserstein.sw2(x, truth, d);
        double floor = SlicedWasserstein.exactFloor(mixture, count, truth.length / d, SlicedWasserstein.DEFAULT_DIRECTIONS, seed + 1);
        System.out.printf(Locale.ROOT, "sliced-W2 to exact samples: %.4f (noise floor, exact vs exact at the same sizes: %.4f)%n", sw2, floor);

        Projection p = Projection.of(mixture);
        float[] xy = p.project(x), txy = p.project(truth);
        String title = String.format(Locale.ROOT, "%s  %s, %d steps, n=%d   SW2 %.3f (floor %.3f)%s", name, s.name(), nSteps, count, sw2, floor,
                d > 2 ? "   [projection on the top-2 principal axes]" : "");
        if (save != null) {
            try (SampleFiles.Table t = SampleFiles.open(save, count, new int[]{d})) {
                t.append(x, count);
                t.commit();
            }
        }
        ScatterPlot.write(out, xy, p::logDensity, bounds(txy), title);
        System.out.println("wrote " + out);
        if (save != null) System.out.println("wrote " + save);
        return 0;
    }

    static GaussianMixture parseModel(String m) {
        String[] parts = m.split(":", 2);
        if (!parts[0].equals("gmm"))
            throw new IllegalArgumentException("unknown model '" + m + "': this version samples Gaussian mixtures, gmm[:preset] with preset one of "
                    + MixturePresets.names());
        return parts.length == 1 ? MixturePresets.defaultPreset() : MixturePresets.byName(parts[1]);
    }

    private static double trace(double[][] c) {
        double t = 0;
        for (int i = 0; i < c.length; i++) t += c[i][i];
        return t;
    }

    /** Largest distance between samples (of the first 2000): Song and Ermon's choice of sigma_max. */
    private static double diameter(float[] x, int d) {
        int n = Math.min(2000, x.length / d);
        double best = 0;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) {
                double s = 0;
                for (int k = 0; k < d; k++) {
                    double t = x[i * d + k] - x[j * d + k];
                    s += t * t;
                }
                best = Math.max(best, s);
            }
        return Math.sqrt(best);
    }

    private static double[] bounds(float[] xy) {
        double x0 = Double.MAX_VALUE, x1 = -Double.MAX_VALUE, y0 = Double.MAX_VALUE, y1 = -Double.MAX_VALUE;
        for (int i = 0; i + 1 < xy.length; i += 2) {
            x0 = Math.min(x0, xy[i]);
            x1 = Math.max(x1, xy[i]);
            y0 = Math.min(y0, xy[i + 1]);
            y1 = Math.max(y1, xy[i + 1]);
        }
        double mx = 0.15 * (x1 - x0) + 1e-6, my = 0.15 * (y1 - y0) + 1e-6;
        return new double[]{x0 - mx, x1 + mx, y0 - my, y1 + my};
    }

    static String shape(int[] s) { return Arrays.toString(s); }
}
