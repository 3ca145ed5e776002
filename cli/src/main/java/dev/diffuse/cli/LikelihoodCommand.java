package dev.diffuse.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import dev.diffuse.models.data.Dataset;
import dev.diffuse.models.data.Datasets;
import dev.diffuse.models.unet.UNet2DModel;
import dev.diffuse.models.unet.UNetCheckpoint;
import dev.diffuse.pipeline.eval.ImageLikelihood;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Devices;
import dev.diffuse.runtime.MemoryBudget;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.gmm.GaussianMixture;
import dev.diffuse.samplers.gmm.GaussianMixtureDenoiser;
import dev.diffuse.samplers.likelihood.ProbabilityFlowLikelihood;
import dev.diffuse.samplers.schedule.VpSde;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code diffuse likelihood}: log-likelihood through the probability-flow ODE. For an exact mixture it is compared
 * with the exact log-density; for an image model it is reported in bits per dimension on dequantised data
 * ({@link ImageLikelihood}, which the Spark evaluation job runs over ranges of a test set with the same bits).
 */
@Command(name = "likelihood", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Estimate log-likelihoods with the probability-flow ODE (exact trace or Hutchinson): nats for a mixture, bits/dim for images.")
public final class LikelihoodCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "gmm", description = "gmm[:preset] (an exact Gaussian mixture, compared with its exact "
            + "log-density) or a model folder: a diffusers UNet2DModel folder, a checkpoint or a run folder (default ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--data", defaultValue = "fashion-mnist:test", description = "images scored with a model folder: "
            + "fashion-mnist[:train|:test] or png:DIR (default ${DEFAULT-VALUE})")
    String data;

    @Option(names = "--data-dir", description = "folder of the Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist, "
            + "where Debian's dataset-fashion-mnist package puts them)")
    Path dataDir;

    @Option(names = "--n", defaultValue = "256", description = "points (mixture) or images (model folder) to score; each image costs "
            + "2 x --steps forward and backward passes (default ${DEFAULT-VALUE})")
    int n;

    @Option(names = "--steps", defaultValue = "200", description = "Heun steps of the ODE from t = 1e-3 to 1 (default ${DEFAULT-VALUE})") int steps;
    @Option(names = "--trace", defaultValue = "hutchinson", description = "divergence estimate: hutchinson (one random probe, "
            + "unbiased) | exact (D backward passes per stage: only for small D) (default ${DEFAULT-VALUE})") String trace;
    @Option(names = "--grid", defaultValue = "sqrt", description = "time grid of the ODE: sqrt (uniform in sqrt(t), dense near the data) "
            + "| uniform (default ${DEFAULT-VALUE})")
    String grid;

    @Option(names = "--seed", defaultValue = "0", description = "seed of the mixture points and the dequantisation noise (the "
            + "Hutchinson probe has its own fixed seed) (default ${DEFAULT-VALUE})") long seed;
    @Option(names = "--device", defaultValue = "auto", description = "auto | java | cl | cl:gpu | cl:cpu | cl:P:I (default ${DEFAULT-VALUE})")
    String device;

    @Override
    public Integer call() throws Exception {
        if (n < 1) throw new IllegalArgumentException("--n must be at least 1 (points or images to score), got " + n);
        if (steps < 1) throw new IllegalArgumentException("--steps must be at least 1, got " + steps);
        Device d = Devices.select(device);
        if (!trace.equalsIgnoreCase("hutchinson") && !trace.equalsIgnoreCase("exact"))
            throw new IllegalArgumentException("--trace must be hutchinson or exact, got '" + trace + "'");
        if (!grid.equalsIgnoreCase("sqrt") && !grid.equalsIgnoreCase("uniform"))
            throw new IllegalArgumentException("--grid must be sqrt or uniform, got '" + grid + "'");
        var lik = new ProbabilityFlowLikelihood(VpSde.standard(), steps,
                ProbabilityFlowLikelihood.Trace.valueOf(trace.toUpperCase(Locale.ROOT)), ProbabilityFlowLikelihood.Grid.valueOf(grid.toUpperCase(Locale.ROOT)));
        System.out.println("device: " + d.id() + "  " + d.name());
        if (model.equals("gmm") || model.startsWith("gmm:")) {
            GaussianMixture m = SampleCommand.parseModel(model);
            requireMemory(d, m.dim(), 0, "points");
            float[] x = m.sample(n, seed);
            float[] est = run(lik, new GaussianMixtureDenoiser(m, d, Denoiser.Prediction.EPSILON), d, x, new int[]{n, m.dim()});
            var sde = VpSde.standard();
            double s = sde.scale(sde.tEnd()), sg = sde.sigma(sde.tEnd()), meanEst = 0, meanExact = 0, meanAbs = 0;
            for (int r = 0; r < n; r++) {
                double[] row = new double[m.dim()];
                for (int j = 0; j < m.dim(); j++) row[j] = x[r * m.dim() + j];
                double e = m.logDensity(row, s, sg);
                meanEst += est[r] / n;
                meanExact += e / n;
                meanAbs += Math.abs(est[r] - e) / n;
            }
            System.out.printf(Locale.ROOT, "%s: mean log p estimate %.4f nats, exact %.4f, mean |error| %.4f (%d points, %s trace, %d Heun steps, %s grid)%n",
                    model, meanEst, meanExact, meanAbs, n, trace, steps, grid);
            return 0;
        }
        Path dir = ImageLikelihood.checkModel(Path.of(model));
        Dataset ds = Datasets.open(data, dataDir);
        int per = ds.sampleNumel();
        requireMemory(d, per, modelBytes(dir, Math.min(n, 64)), "images");
        var settings = new ImageLikelihood.Settings(steps, lik.trace(), lik.grid(), seed);
        try (ImageLikelihood images = ImageLikelihood.load(dir, d, Math.min(n, 64))) {
            float[] est = images.logDensity(ds, 0, n, settings); // image i = data image i mod size, dequantised with its own noise
            double nll = ImageLikelihood.meanNll(est), bpd = ImageLikelihood.bitsPerDim(nll, images.sampleNumel());
            System.out.printf(Locale.ROOT, "%s on %s: %.3f bits/dim (mean -log p %.1f nats over %d images, %s)%n",
                    model, data, bpd, nll, n, settings.describe());
        }
        return 0;
    }

    /**
     * Refuses, before anything is allocated, a run whose host arrays (points, results) or device memory (the model's
     * {@code modelBytes}, the ODE state: x, x~, two model outputs, probe and VJP per point, {@link #run}) do not fit.
     */
    private void requireMemory(Device d, int dim, long modelBytes, String noun) {
        long values = (long) n * dim;
        String what = String.format(Locale.ROOT, "the likelihood of %,d %s of %,d values", n, noun, dim);
        MemoryBudget.requireHostArray(what, values + 2L * n, 4, "lower --n");
        MemoryBudget.require(d, what, workspaceBytes(values, n) + modelBytes, "lower --n");
    }

    /** Device bytes of the model in {@code dir} for batches of {@code batch} with activations kept (0 when not a U-Net). */
    private static long modelBytes(Path dir, int batch) throws java.io.IOException {
        return Models.className(dir).equals("UNet2DModel") ? UNet2DModel.bytesNeeded(UNetCheckpoint.readConfig(dir), batch, true) : 0;
    }

    /** The ODE state: x0 and six tensors like it (x, x~, m1, m2, probe, VJP), five per-row vectors, 64 MiB of slack. */
    private static long workspaceBytes(long values, long rows) { return ImageLikelihood.workspaceBytes(values, rows); }

    private static float[] run(ProbabilityFlowLikelihood lik, dev.diffuse.samplers.DifferentiableDenoiser den, Device d, float[] x, int[] shape) {
        try (Workspace ws = new Workspace(d, "likelihood", workspaceBytes(x.length, shape[0]))) {
            Tensor x0 = ws.tensor(shape), out = ws.tensor(shape[0]);
            x0.upload(x);
            lik.logDensity(out, den, x0, 3, ws);
            return out.toArray();
        } finally {
            if (den instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }
}
