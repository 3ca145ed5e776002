package dev.diffuse.pipeline.eval;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

import dev.diffuse.models.data.Dataset;
import dev.diffuse.models.train.ModelDenoiser;
import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.models.train.TrainableModel;
import dev.diffuse.pipeline.ModelFolders;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Philox;
import dev.diffuse.runtime.RowNoise;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.likelihood.ProbabilityFlowLikelihood;
import dev.diffuse.samplers.schedule.VpSde;

/**
 * Bits per dimension of a data set under an epsilon-prediction model, through the VP probability-flow ODE
 * ({@link ProbabilityFlowLikelihood}), on dequantised data: x = (pixel + u) / 127.5 - 1 with u ~ U(0, 1), so
 * p_pixel = p_x / 127.5^D and bits/dim = -log p_x / (D ln 2) + log2(127.5). What {@code diffuse likelihood} reports,
 * computable in ranges: image i of a run is data image i mod |data|, its dequantisation noise is
 * {@code Philox.uniform(seed, 1, i * D + j)} and its Hutchinson probe normal {@code i * D + j} of stream 0 under
 * {@value #PROBE_SEED}, whatever range or batch it is computed in, so a test set split across executors gives every
 * image the value one run gives it and {@link #bitsPerDim} the same mean.
 * <pre>{@code
 * try (ImageLikelihood lik = ImageLikelihood.load(Path.of("pretrained/fashion-mnist-small"), device, 64)) {
 *     float[] logp = lik.logDensity(testSet, 0, 256, ImageLikelihood.Settings.defaults());
 *     System.out.println(ImageLikelihood.bitsPerDim(logp, 784) + " bits/dim");
 * }
 * }</pre>
 */
public final class ImageLikelihood implements AutoCloseable {
    /** Seed of the Hutchinson probes. */
    public static final long PROBE_SEED = 3;

    /**
     * How the ODE is integrated and the data dequantised.
     *
     * @param steps Heun steps, e.g. 100
     * @param trace HUTCHINSON (one probe per image) or EXACT (D vector-Jacobian products per stage)
     * @param grid  SQRT (uniform in sqrt(t), dense near the data) or UNIFORM
     * @param seed  seed of the dequantisation noise
     */
    public record Settings(int steps, ProbabilityFlowLikelihood.Trace trace, ProbabilityFlowLikelihood.Grid grid, long seed) implements Serializable {
        public Settings {
            if (steps < 1) throw new IllegalArgumentException("likelihood steps must be >= 1, got " + steps);
            if (trace == null || grid == null) throw new IllegalArgumentException("likelihood: trace and grid must be set");
        }

        /** 200 Heun steps, Hutchinson trace, sqrt grid, seed 0 (the CLI's defaults). */
        public static Settings defaults() {
            return new Settings(200, ProbabilityFlowLikelihood.Trace.HUTCHINSON, ProbabilityFlowLikelihood.Grid.SQRT, 0);
        }

        /** "hutchinson trace, 200 Heun steps, sqrt grid" */
        public String describe() {
            return String.format(Locale.ROOT, "%s trace, %d Heun steps, %s grid", trace.name().toLowerCase(Locale.ROOT), steps,
                    grid.name().toLowerCase(Locale.ROOT));
        }
    }

    private final TrainableModel net;
    private final ModelDenoiser denoiser;
    private final Path folder;

    private ImageLikelihood(Path folder, TrainableModel net) {
        this.folder = folder;
        this.net = net;
        this.denoiser = new ModelDenoiser(net);
    }

    /**
     * Loads an epsilon model folder (a run folder: its latest checkpoint) with its activations kept (the divergence
     * needs vector-Jacobian products), evaluating at most {@code maxBatch} images per network pass.
     */
    public static ImageLikelihood load(Path model, Device device, int maxBatch) throws IOException {
        Path dir = checkModel(model);
        return new ImageLikelihood(dir, ModelFolders.load(dir, device, maxBatch, true));
    }

    /** The resolved folder of {@code model} (a run folder: its latest checkpoint); refused unless it predicts epsilon. */
    public static Path checkModel(Path model) throws IOException {
        Path dir = ModelFolders.resolve(model);
        ModelObjective objective = ModelObjective.read(dir);
        if (objective.kind() != ModelObjective.Kind.EPSILON)
            throw new IllegalArgumentException(dir + " is a " + objective.label() + " model; the likelihood here integrates the VP "
                    + "probability-flow ODE of an epsilon-prediction (DDPM) model");
        return dir;
    }

    /**
     * Device bytes of the ODE state for {@code rows} images of {@code values} values in all: x0 and six tensors like it
     * (x, x~, m1, m2, probe, VJP), five per-row vectors, 64 MiB of slack.
     */
    public static long workspaceBytes(long values, long rows) { return 4 * (7 * values + 5 * rows) + (64L << 20); }

    /** The model folder loaded (a run folder resolved to its checkpoint). */
    public Path folder() { return folder; }

    /** Values per image the model takes. */
    public int sampleNumel() { return Math.toIntExact(Tensor.numel(net.sampleShape())); }

    /**
     * log p (nats) of images {@code first .. first + count - 1} of the run over {@code data} (image i is data image
     * i mod |data|, dequantised with its own noise), one value per image.
     */
    public float[] logDensity(Dataset data, long first, int count, Settings s) {
        int per = sampleNumel();
        if (data.sampleNumel() != per)
            throw new IllegalArgumentException("likelihood: " + data.description() + " has samples of " + Arrays.toString(data.sampleShape())
                    + ", the model takes " + Arrays.toString(net.sampleShape()));
        if (count < 1 || first < 0) throw new IllegalArgumentException("likelihood: need count >= 1 and first >= 0, got " + count + " at " + first);
        float[] x = new float[Math.multiplyExact(count, per)];
        int[] idx = new int[count];
        for (int i = 0; i < count; i++) idx[i] = (int) ((first + i) % data.size());
        data.fill(idx, x, null);
        long base = Math.multiplyExact(first, per);
        for (int i = 0; i < x.length; i++) x[i] += Philox.uniform(s.seed(), 1, base + i) / 127.5f; // uniform dequantisation
        int[] shape = new int[net.sampleShape().length + 1];
        shape[0] = count;
        System.arraycopy(net.sampleShape(), 0, shape, 1, shape.length - 1);
        long[] seeds = new long[count], firsts = new long[count];
        Arrays.fill(seeds, PROBE_SEED);
        for (int r = 0; r < count; r++) firsts[r] = Math.multiplyExact(first + r, per);
        var lik = new ProbabilityFlowLikelihood(VpSde.standard(), s.steps(), s.trace(), s.grid());
        try (Workspace ws = new Workspace(net.device(), "likelihood", workspaceBytes(x.length, count));
             RowNoise probes = new RowNoise(seeds, firsts)) {
            Tensor x0 = ws.tensor(shape), out = ws.tensor(count);
            x0.upload(x);
            lik.logDensity(out, denoiser, x0, PROBE_SEED, probes, ws);
            return out.toArray();
        }
    }

    /**
     * Bits per dimension of images whose log-densities (nats, in image order) are {@code logp}:
     * mean(-log p) / (D ln 2) + log2(127.5), the mean summed in image order so that the same values give the same bits.
     */
    public static double bitsPerDim(float[] logp, int per) {
        return bitsPerDim(meanNll(logp), per);
    }

    /** bits/dim of a mean negative log-density in nats. */
    public static double bitsPerDim(double meanNll, int per) { return meanNll / (per * Math.log(2)) + Math.log(127.5) / Math.log(2); }

    /** mean(-log p) in nats, summed in image order ({@code nll -= v / n} with v / n in float, as the CLI always did). */
    public static double meanNll(float[] logp) {
        int n = logp.length;
        double nll = 0;
        for (float v : logp) nll -= v / n;
        return nll;
    }

    @Override
    public void close() {
        try {
            denoiser.close();
        } finally {
            net.close();
        }
    }
}
