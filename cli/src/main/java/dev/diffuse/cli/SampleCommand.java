package dev.diffuse.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import dev.diffuse.cli.plot.PngFiles;
import dev.diffuse.cli.plot.ScatterPlot;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Devices;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.Samplers;
import dev.diffuse.samplers.gmm.GaussianMixture;
import dev.diffuse.samplers.gmm.MixtureDenoisers;
import dev.diffuse.samplers.gmm.MixturePresets;
import dev.diffuse.samplers.metrics.SlicedWasserstein;
import dev.diffuse.samplers.schedule.DiscreteSchedule;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code diffuse sample}: draws samples with a sampler from a model. Today the model is an exact Gaussian mixture
 * ({@code gmm[:preset]}), whose noised score is known in closed form, so the sampler's own error is what shows.
 */
@Command(name = "sample", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Draw samples with a diffusion sampler and plot them over the true density.")
public final class SampleCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "gmm", paramLabel = "MODEL",
            description = "gmm[:preset] (presets: ${COMPLETION-CANDIDATES}; default gmm = gmm:ring8), or a model folder: a diffusers "
                    + "UNet2DModel folder, a checkpoint, or a training run folder (its latest checkpoint)",
            completionCandidates = PresetNames.class)
    String model;

    @Option(names = "--class", defaultValue = "-1", description = "class label for a class-conditional model (default: none)")
    int classLabel;

    @Option(names = "--reference", description = "model samples: also report the sliced-W2 in pixel space to this data set (e.g. "
            + "fashion-mnist:test) next to the same distance for real training images (fashion-mnist:train), at equal sizes")
    String reference;

    @Option(names = "--no-clip", description = "image models: do not clip the predicted x0 to [-1, 1] (clipping is the default for ddpm/ddim)")
    boolean noClip;

    @Option(names = "--sampler", completionCandidates = SamplerNames.class,
            description = "one of: ${COMPLETION-CANDIDATES}, or consistency for a consistency model (default: ode-heun; flow-heun "
                    + "for a flow-matching model; consistency for a consistency model)")
    String sampler;

    @Option(names = "--steps", defaultValue = "50", description = "sampler steps (default ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--n", defaultValue = "4000", description = "number of samples (default ${DEFAULT-VALUE})")
    int n;

    @Option(names = "--seed", defaultValue = "0", description = "RNG seed; same seed -> same samples on every device")
    long seed;

    @Option(names = "--device", defaultValue = "auto", description = "auto | java | cl | cl:gpu | cl:cpu | cl:P:I (default ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--eta", defaultValue = "0", description = "DDIM eta (default ${DEFAULT-VALUE})")
    double eta;

    @Option(names = "--beta-schedule", defaultValue = "linear", description = "ddpm/ddim: linear | scaled_linear | cosine")
    String betaSchedule;

    @Option(names = "--sigma-max", description = "VE samplers and annealed Langevin: sigma_max (default: the data's diameter)")
    Double sigmaMax;

    @Option(names = "--out", defaultValue = "samples.png", description = "PNG scatter over the true density (default ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--save", description = "also write the samples as CSV")
    Path save;

    static final class SamplerNames extends java.util.ArrayList<String> {
        SamplerNames() { super(Samplers.NAMES); }
    }

    static final class PresetNames extends java.util.ArrayList<String> {
        PresetNames() { super(MixturePresets.names()); }
    }

    @Override
    public Integer call() throws IOException {
        if (n < 1) throw new IllegalArgumentException("--n must be at least 1, got " + n);
        if (steps < 1) throw new IllegalArgumentException("--steps must be at least 1, got " + steps);
        boolean gmm = model.equals("gmm") || model.startsWith("gmm:");
        if (gmm && sampler == null) sampler = "ode-heun";
        return gmm ? sampleMixture() : sampleModel();
    }

    /** Samples a trained network: an image grid for image models, a scatter for vector models. */
    private int sampleModel() throws IOException {
        Device dev = Devices.select(device);
        Path dir = Models.resolve(Path.of(model));
        System.out.println("device:  " + dev.id() + "  " + dev.name());
        ModelObjective objective = ModelObjective.read(dir);
        sampler = ModelSamplers.check(objective, sampler, dir);
        try (var net = Models.load(dir, dev, Models.inferenceBatch(dir, Math.min(n, 64))); var den = ModelSamplers.denoiser(net, objective, DiscreteSchedule.ddpmDefault(), classLabel)) {
            // image models work in [-1, 1]: ddpm/ddim clip the predicted x0 there (diffusers' clip_sample default) unless --no-clip
            boolean clip = !noClip && net.sampleShape().length == 3;
            Sampler s = ModelSamplers.create(objective, sampler,
                    new Samplers.Options(steps, eta, betaSchedule, clip, 0.01, sigmaMax != null ? sigmaMax : 80, 0.01, 1));
            int[] shape = new int[net.sampleShape().length + 1];
            shape[0] = n;
            System.arraycopy(net.sampleShape(), 0, shape, 1, net.sampleShape().length);
            System.out.printf(Locale.ROOT, "model:   %s (%,d parameters, sample shape %s, objective %s)%n", dir, Models.parameterCount(net),
                    java.util.Arrays.toString(net.sampleShape()), ModelSamplers.describe(objective));
            System.out.printf(Locale.ROOT, "sampler: %s, %d steps, %d evaluations%n", s.name(), steps, s.evaluations());
            float[] x;
            try (Workspace ws = new Workspace(dev, "sample", 8L * Tensor.numel(shape) + (16 << 20))) {
                long t0 = System.nanoTime();
                x = s.sample(den, ws, seed, shape).toArray();
                double secs = (System.nanoTime() - t0) / 1e9;
                System.out.printf(Locale.ROOT, "sampled: %d in %.3f s (%.1f samples/s)%n", n, secs, n / secs);
            }
            Outputs.writeSamples(out, x, shape);
            System.out.println("wrote " + out);
            if (reference != null) reportReference(x, shape);
            if (save != null) {
                writeCsv(save, x, x.length / n);
                System.out.println("wrote " + save);
            }
        }
        return 0;
    }

    /**
     * SW2 between the generated images and n reference images, beside the SW2 between n real training images and the
     * same reference images: the second number is what a perfect model would score at this sample size.
     */
    private void reportReference(float[] x, int[] shape) throws IOException {
        var ref = dev.diffuse.models.data.Datasets.open(reference, null);
        String trainSpec = reference.contains(":") ? reference.substring(0, reference.indexOf(':')) + ":train" : reference;
        var train = dev.diffuse.models.data.Datasets.open(trainSpec, null);
        int per = x.length / n;
        if (ref.sampleNumel() != per)
            throw new IllegalArgumentException("--reference " + reference + " has samples of " + ref.sampleNumel() + " values, the model makes " + per);
        float[] r = new float[n * per], t = new float[n * per], labels = new float[n];
        int[] ri = new int[n], ti = new int[n];
        for (int i = 0; i < n; i++) {
            ri[i] = (int) ((i * 7919L) % ref.size());
            ti[i] = (int) ((i * 104729L) % train.size());
        }
        ref.fill(ri, r, labels);
        train.fill(ti, t, labels);
        double gen = SlicedWasserstein.sw2(x, r, per), real = SlicedWasserstein.sw2(t, r, per);
        System.out.printf(Locale.ROOT, "sliced-W2 in pixel space to %d images of %s: %.4f (real %s images at the same size: %.4f)%n",
                n, reference, gen, trainSpec, real);
    }

    private int sampleMixture() throws IOException {
        GaussianMixture mixture = parseModel(model);
        int d = mixture.dim();
        float[] truth = mixture.sample(Math.max(n, 10_000), seed ^ 0x7A3Bl);
        double sMax = sigmaMax != null ? sigmaMax : diameter(truth, d);
        Sampler s = Samplers.create(sampler, new Samplers.Options(steps, eta, betaSchedule, false, 0.01, sMax, 0.01,
                Math.sqrt(trace(mixture.covariance()) / d)));
        Device dev = Devices.select(device);
        System.out.println("device:  " + dev.id() + "  " + dev.name());
        System.out.printf(Locale.ROOT, "model:   %s (d=%d, %d components)%n", model.contains(":") ? model : model + ":" + MixturePresets.DEFAULT, d, mixture.components());
        System.out.printf(Locale.ROOT, "sampler: %s, %d steps, %d evaluations%n", s.name(), steps, s.evaluations());

        float[] x;
        long bytes = Math.max(16L << 20, 8L * n * d * 4);
        try (var den = MixtureDenoisers.forSampler(mixture, dev, sampler);
             Workspace ws = new Workspace(dev, "sample", bytes)) {
            long t0 = System.nanoTime();
            x = s.sample(den, ws, seed, n, d).toArray(); // the only read-back, after the loop
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "sampled: %d in %.3f s (%.0f samples/s, includes program compilation on first use)%n", n, secs, n / secs);
        }
        double sw2 = SlicedWasserstein.sw2(x, truth, d);
        double floor = SlicedWasserstein.exactFloor(mixture, n, truth.length / d, SlicedWasserstein.DEFAULT_DIRECTIONS, seed + 1);
        System.out.printf(Locale.ROOT, "sliced-W2 to exact samples: %.4f (noise floor, exact vs exact at the same sizes: %.4f)%n", sw2, floor);
        int bad = 0;
        for (float v : x) if (!Float.isFinite(v)) bad++;
        if (bad > 0) System.out.println("warning: " + bad + " non-finite values in the samples (step size too large?)");

        Projection p = Projection.of(mixture);
        float[] xy = p.project(x), txy = p.project(truth);
        String title = String.format(Locale.ROOT, "%s  %s, %d steps, n=%d   SW2 %.3f (floor %.3f)%s", model.contains(":") ? model : model + ":" + MixturePresets.DEFAULT, s.name(), steps, n, sw2, floor,
                d > 2 ? "   [projection on the top-2 principal axes]" : "");
        ScatterPlot.write(out, xy, p::logDensity, bounds(txy), title);
        System.out.println("wrote " + out);
        if (save != null) {
            writeCsv(save, x, d);
            System.out.println("wrote " + save);
        }
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

    private static void writeCsv(Path path, float[] x, int d) throws IOException {
        PngFiles.writeAtomically(path, tmp -> {
            try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(tmp))) {
                StringBuilder h = new StringBuilder();
                for (int k = 0; k < d; k++) h.append(k == 0 ? "" : ",").append("x").append(k);
                w.println(h);
                for (int i = 0; i < x.length / d; i++) {
                    StringBuilder row = new StringBuilder();
                    for (int k = 0; k < d; k++) row.append(k == 0 ? "" : ",").append(x[i * d + k]);
                    w.println(row);
                }
            }
        });
    }
}
