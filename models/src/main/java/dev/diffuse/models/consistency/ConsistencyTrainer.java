package dev.diffuse.models.consistency;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.diffuse.kernels.consistency.Consistency;
import dev.diffuse.kernels.elementwise.Elementwise;
import dev.diffuse.kernels.loss.MseLoss;
import dev.diffuse.kernels.optim.Optim;
import dev.diffuse.models.data.Dataset;
import dev.diffuse.models.io.Safetensors;
import dev.diffuse.models.train.CheckpointFolders;
import dev.diffuse.models.train.Checkpoints;
import dev.diffuse.models.train.ConfigWriter;
import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.models.train.TrainableModel;
import dev.diffuse.models.train.TrainingDivergedException;
import dev.diffuse.runtime.MemoryBudget;
import dev.diffuse.runtime.Philox;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.gmm.GaussianMixture;

/**
 * Consistency training (CT; Song et al. 2023, Algorithm 3) of any {@link TrainableModel} F, one update k:
 * <pre>
 *   N = N(k), sigma_1 &lt; ... &lt; sigma_N the Karras grid;  i_b ~ U{0..size-1}, n_b ~ U{1..N-1}   host, Philox (seed, 4k + 0 / 1)
 *   z ~ N(0, I) in-kernel (seed, 4k + 2), shared by both points:  x_a = x + sigma_{n+1} z,  x_b = x + sigma_n z
 *   f(x, s) = c_skip(s) x + c_out(s) F(c_in(s) x, c_noise(s)),   c_noise(s) = 1000 * 0.25 ln s   (EDM's c_noise, x1000)
 *   L = mean (f_theta(x_a, sigma_{n+1}) - f_target(x_b, sigma_n))^2      target: EMA weights, no gradient
 *   dF = c_out(sigma_{n+1}) 2 (f_theta - f_target) / n  (fused);  backward through F only;  clip;  Adam
 *   target = mu(k) target + (1 - mu(k)) theta,   mu(k) = exp(s0 ln mu0 / N(k))
 * </pre>
 * The target network is the model itself with the target weights swapped into its parameter slab for one forward
 * (two slab copies per step), which works for any TrainableModel; the target forward runs first so the online
 * forward's activations are the ones backward uses. Per step the host uploads the batch and one (4, B) block
 * (sigma_{n+1}, sigma_n, both c_noise) and reads back only the mean loss every logEvery steps. Sample with the target
 * weights ({@link #withTargetWeights}) through {@link ConsistencyDenoiser} and the consistency sampler.
 * <p>
 * Consistency distillation (CD; Song et al. 2023, Algorithm 2) when a teacher mixture is given: x_b is no longer
 * x + sigma_n z but one Heun step of the probability-flow ODE dx/dsigma = (x - D(x, sigma)) / sigma = -sigma
 * grad log p_sigma(x) from x_a at sigma_{n+1} down to sigma_n, with the teacher's EXACT score (the data is that
 * mixture, so D is the exact posterior mean; this is the 2-D demo, not a learned teacher):
 * <pre>
 *   h = sigma_n - sigma_{n+1},  d_a = -sigma_{n+1} score(x_a, sigma_{n+1}),  x' = x_a + h d_a,
 *   d' = -sigma_n score(x', sigma_n),  x_b = x_a + h (d_a + d') / 2
 * </pre>
 * x_a and x_b are computed on the host in double (z from the same Philox stream 4k + 2 the kernel uses) and uploaded;
 * everything else is the CT step. The CD target f_target(x_b, sigma_n) no longer depends on which data point produced
 * x_a, which removes the variance that makes short CT blurry.
 */
public final class ConsistencyTrainer implements AutoCloseable {
    /** The network's timestep for noise level s: 1000 * c_noise(s) = 250 ln s. */
    public static double timestep(double sigma) { return 250 * Math.log(sigma); }

    private final TrainableModel model;
    private final GaussianMixture teacher;
    private final int teacherSubsteps;
    private final Dataset data;
    private final ConsistencyConfig cfg;
    private final Workspace ws;
    private final Tensor target, backup, m, v, x0, xa, xb, xin, net, fOn, fTg, dNet, meta, sOn, sTg, tOn, tTg, loss, lossSum, norm, normSum, clip;
    private final int batch, per, metaStride;
    private final float[] hostX, hostMeta, hostZ, hostXa, hostXb;
    private final int[] idx;
    private int step, lossCount;
    private double pMean = Double.NaN, pStd;
    private Tensor weight;
    private float[] hostW;
    private final List<Double> losses = new ArrayList<>();
    private final List<Integer> lossSteps = new ArrayList<>();
    private Path outputDir;
    /** Metadata format of a consistency training state. */
    public static final String FORMAT = "diffuse-consistency-state-1";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] SLABS = {"param", "target", "adam_m", "adam_v"};

    /** Consistency training (CT). */
    public ConsistencyTrainer(TrainableModel model, Dataset data, ConsistencyConfig cfg) { this(model, data, cfg, null, 1); }

    /**
     * Consistency distillation (CD) from the exact probability-flow ODE of {@code teacher} (the mixture the data is
     * drawn from, e.g. {@code Synthetic2d.mixture()}); {@code teacher == null} is consistency training (CT).
     * {@code teacherSubsteps} Heun steps solve the ODE between adjacent grid levels (1 = textbook CD; more makes the
     * teacher accurate on a coarse grid, so that a small N can be used).
     */
    public ConsistencyTrainer(TrainableModel model, Dataset data, ConsistencyConfig cfg, GaussianMixture teacher, int teacherSubsteps) {
        if (teacherSubsteps < 1) throw new IllegalArgumentException("consistency trainer: teacherSubsteps must be >= 1, got " + teacherSubsteps);
        if (teacher != null && teacher.dim() != data.sampleNumel())
            throw new IllegalArgumentException("consistency trainer: the teacher mixture has dimension " + teacher.dim()
                    + " but dataset samples have " + data.sampleNumel() + " values; pass the mixture the data is drawn from");
        if (!Arrays.equals(model.sampleShape(), data.sampleShape()))
            throw new IllegalArgumentException("consistency trainer: the model takes samples of shape " + Arrays.toString(model.sampleShape())
                    + " but the dataset has " + Arrays.toString(data.sampleShape()));
        if (cfg.batch() > model.maxBatch())
            throw new IllegalArgumentException("consistency trainer: batch " + cfg.batch() + " exceeds the model's maxBatch " + model.maxBatch());
        this.model = model;
        this.teacher = teacher;
        this.teacherSubsteps = teacherSubsteps;
        this.data = data;
        this.cfg = cfg;
        batch = cfg.batch();
        per = data.sampleNumel();
        int slab = Math.toIntExact(model.parameters().numel());
        long bytes = 4L * (4L * slab + 9L * batch * per + 4L * batch + 64) + (16L << 20);
        MemoryBudget.require(model.device(), "the consistency trainer's state for batch " + batch + " (target, backup and AdamW "
                + "slabs, batch buffers) beside the model", bytes, "lower --batch");
        ws = new Workspace(model.device(), "consistency trainer", bytes);
        target = ws.tensor(slab);
        backup = ws.tensor(slab);
        m = ws.tensor(slab);
        v = ws.tensor(slab);
        target.copyFrom(model.parameters());
        int[] shape = new int[data.sampleShape().length + 1];
        shape[0] = batch;
        System.arraycopy(data.sampleShape(), 0, shape, 1, shape.length - 1);
        x0 = ws.tensor(shape); xa = ws.tensor(shape); xb = ws.tensor(shape); xin = ws.tensor(shape); net = ws.tensor(shape);
        fOn = ws.tensor(shape); fTg = ws.tensor(shape); dNet = ws.tensor(shape);
        metaStride = dev.diffuse.models.train.Trainer.alignedStride(batch); // rows are kernel arguments: aligned sub-buffers
        meta = ws.tensor(4, metaStride);
        sOn = meta.view(0, batch); sTg = meta.view(metaStride, batch);
        tOn = meta.view(2L * metaStride, batch); tTg = meta.view(3L * metaStride, batch);
        loss = ws.tensor(1); lossSum = ws.tensor(1); norm = ws.tensor(1); normSum = ws.tensor(1); clip = ws.tensor(1);
        hostX = new float[batch * per];
        hostMeta = new float[4 * metaStride];
        idx = new int[batch];
        hostZ = teacher == null ? null : new float[batch * per];
        hostXa = teacher == null ? null : new float[batch * per];
        hostXb = teacher == null ? null : new float[batch * per];
    }

    /**
     * Improved-CT level sampling and weighting (Song and Dhariwal 2023): the index n is drawn with
     * P(n) proportional to erf((ln sigma_{n+1} - pMean) / (sqrt2 pStd)) - erf((ln sigma_n - pMean) / (sqrt2 pStd))
     * (a discretised log-normal over the grid; iCT uses pMean -1.1, pStd 2 for sigma_data 0.5, so shift pMean by
     * ln(sigma_data / 0.5) for other data scales), and each row's loss gradient is weighted by
     * lambda_n = 1 / (sigma_{n+1} - sigma_n), normalised by E_P[lambda] so that the gradient scale (and clipping)
     * stays comparable. The logged loss stays the unweighted MSE. Call before training; returns this.
     */
    public ConsistencyTrainer lognormalLevels(double pMean, double pStd) {
        if (!(pStd > 0) || !Double.isFinite(pMean))
            throw new IllegalArgumentException("consistency trainer: lognormal levels need finite pMean and pStd > 0, got " + pMean + ", " + pStd);
        if (step != 0) throw new IllegalStateException("consistency trainer: set lognormal levels before the first step (at step " + step + ")");
        this.pMean = pMean;
        this.pStd = pStd;
        int[] shape = xa.shape();
        weight = ws.tensor(shape);
        hostW = new float[batch * per];
        return this;
    }

    /** P(n), n = 1..N-1 (index n - 1), of {@link #lognormalLevels}. */
    double[] levelProbabilities(int n) {
        double[] p = new double[n - 1];
        double sum = 0;
        for (int i = 1; i < n; i++) {
            p[i - 1] = erf((Math.log(cfg.sigma(i + 1, n)) - pMean) / (Math.sqrt(2) * pStd)) - erf((Math.log(cfg.sigma(i, n)) - pMean) / (Math.sqrt(2) * pStd));
            sum += p[i - 1];
        }
        for (int i = 0; i < p.length; i++) p[i] /= sum;
        return p;
    }

    /** erf by Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7; enough for sampling weights). */
    static double erf(double x) {
        double t = 1 / (1 + 0.3275911 * Math.abs(x));
        double y = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
        return x >= 0 ? y : -y;
    }

    /** True when this trainer distils from a teacher mixture (CD) rather than training from data alone (CT). */
    public boolean distilling() { return teacher != null; }

    /** Standard deviation of the data over all coordinates (the sigma_data to use for vector data), from up to n rows. */
    public static double dataStd(Dataset data, int n) {
        int k = Math.min(n, data.size()), p = data.sampleNumel();
        int[] ids = new int[k];
        for (int i = 0; i < k; i++) ids[i] = i;
        float[] x = new float[k * p];
        data.fill(ids, x, null);
        double s = 0, s2 = 0;
        for (float f : x) { s += f; s2 += (double) f * f; }
        double mean = s / x.length;
        return Math.sqrt(s2 / x.length - mean * mean);
    }

    public int step() { return step; }
    public ConsistencyConfig config() { return cfg; }

    /** The run folder checkpoints go to, named when training diverges (its latest checkpoint is the last good one). */
    public ConsistencyTrainer outputDir(Path dir) { this.outputDir = dir; return this; }
    public double[] lossValues() { return losses.stream().mapToDouble(Double::doubleValue).toArray(); }
    /** The steps at which {@link #lossValues} were read back. */
    public int[] lossSteps() { return lossSteps.stream().mapToInt(Integer::intValue).toArray(); }
    /** The target (EMA) weights, same layout as the model's parameter slab. */
    public Tensor targetParameters() { return target; }

    /** Runs to cfg.steps(). */
    public void run() { runUntil(cfg.steps()); }

    public void runUntil(int last) {
        if (last > cfg.steps()) throw new IllegalArgumentException("consistency trainer: step " + last + " exceeds the configured " + cfg.steps());
        while (step < last) {
            trainStep();
            if (step % cfg.logEvery() == 0 || step == cfg.steps()) readLoss();
        }
    }

    private void trainStep() {
        int k = step + 1;
        long seed = cfg.seed();
        int n = cfg.discretisation(k);
        double[] levelP = Double.isNaN(pMean) ? null : levelProbabilities(n);
        double meanLambda = 0;
        if (levelP != null) for (int j = 1; j < n; j++) meanLambda += levelP[j - 1] / (cfg.sigma(j + 1, n) - cfg.sigma(j, n));
        for (int b = 0; b < batch; b++) {
            long r = (Philox.uint32(seed, 4L * k, 2L * b) << 32) | Philox.uint32(seed, 4L * k, 2L * b + 1);
            idx[b] = (int) Long.remainderUnsigned(r, data.size());
            int i;
            if (levelP == null) i = 1 + (int) (Philox.uint32(seed, 4L * k + 1, b) % (n - 1));
            else {
                double u = Philox.uniform(seed, 4L * k + 1, b), acc = 0;
                i = n - 1;
                for (int j = 0; j < n - 1; j++) if (u < (acc += levelP[j])) { i = j + 1; break; }
                float w = (float) (1 / (cfg.sigma(i + 1, n) - cfg.sigma(i, n)) / meanLambda);
                for (int q = 0; q < per; q++) hostW[b * per + q] = w;
            }
            double hi = cfg.sigma(i + 1, n), lo = cfg.sigma(i, n);
            hostMeta[b] = (float) hi;
            hostMeta[metaStride + b] = (float) lo;
            hostMeta[2 * metaStride + b] = (float) timestep(hi);
            hostMeta[3 * metaStride + b] = (float) timestep(lo);
        }
        data.fill(idx, hostX, null);
        x0.upload(hostX);
        meta.upload(hostMeta);
        float smin = (float) cfg.sigmaMin(), sd = (float) cfg.sigmaData();
        if (teacher == null) {
            Consistency.perturb(xa, x0, sOn, seed, 4L * k + 2);
            Consistency.perturb(xb, x0, sTg, seed, 4L * k + 2);
        } else {
            teacherStep(seed, k);
        }
        // target: f_target(x_b, sigma_n) with the EMA weights (no gradient)
        backup.copyFrom(model.parameters());
        model.parameters().copyFrom(target);
        Consistency.input(xin, xb, sTg, sd);
        model.forward(net, xin, tTg, null);
        Consistency.combine(fTg, xb, net, sTg, smin, sd);
        model.parameters().copyFrom(backup);
        // online: f_theta(x_a, sigma_{n+1}), loss and backward through c_out F
        model.zeroGradients();
        Consistency.input(xin, xa, sOn, sd);
        model.forward(net, xin, tOn, null);
        Consistency.combine(fOn, xa, net, sOn, smin, sd);
        MseLoss.forward(loss, fOn, fTg, null);
        Elementwise.add(lossSum, lossSum, loss);
        lossCount++;
        Consistency.lossBackward(dNet, fOn, fTg, sOn, smin, sd);
        if (levelP != null) {
            weight.upload(hostW);
            Elementwise.mul(dNet, dNet, weight);
        }
        model.backward(dNet, null);
        // the norm is summed on the device and read back with the loss, so a non-finite gradient stops training
        boolean clipping = cfg.gradClip() > 0 && Double.isFinite(cfg.gradClip());
        Optim.gradNorm(norm, clip, model.gradients(), 1f, clipping ? (float) cfg.gradClip() : Float.POSITIVE_INFINITY);
        Elementwise.add(normSum, normSum, norm);
        Optim.adamw(model.parameters(), m, v, model.gradients(), clipping ? clip : null, 1f, cfg.adam(k), k);
        Optim.ema(target, model.parameters(), cfg.targetDecay(k));
        step = k;
    }

    /**
     * CD: x_a = x + sigma_{n+1} z and x_b = the exact-score PF-ODE solution from x_a at sigma_{n+1} to sigma_n, by
     * {@code teacherSubsteps} Heun steps (evenly spaced in ln sigma; 1 = the class doc's single step).
     */
    private void teacherStep(long seed, int k) {
        Philox.normals(seed, 4L * k + 2, 0, hostZ, 0, batch * per);
        double[] x = new double[per], d0 = new double[per], x1 = new double[per], d1 = new double[per];
        for (int b = 0; b < batch; b++) {
            double hi = hostMeta[b], lo = hostMeta[metaStride + b];
            for (int i = 0; i < per; i++) {
                x[i] = hostX[b * per + i] + hi * hostZ[b * per + i];
                hostXa[b * per + i] = (float) x[i];
            }
            for (int j = 0; j < teacherSubsteps; j++) {
                double s0 = hi * Math.pow(lo / hi, (double) j / teacherSubsteps), s1 = hi * Math.pow(lo / hi, (double) (j + 1) / teacherSubsteps);
                double h = s1 - s0;
                teacher.scoreInto(d0, x, 1, s0);          // dx/dsigma = -sigma score
                for (int i = 0; i < per; i++) { d0[i] *= -s0; x1[i] = x[i] + h * d0[i]; }
                teacher.scoreInto(d1, x1, 1, s1);
                for (int i = 0; i < per; i++) x[i] += h * 0.5 * (d0[i] - s1 * d1[i]);
            }
            for (int i = 0; i < per; i++) hostXb[b * per + i] = (float) x[i];
        }
        xa.upload(hostXa);
        xb.upload(hostXb);
    }

    /** Records the mean loss since the last read; a non-finite loss or gradient norm stops training. */
    private void readLoss() {
        if (lossCount == 0) return;
        losses.add(checkFinite());
        lossSteps.add(step);
        Elementwise.fill(lossSum, 0f);
        Elementwise.fill(normSum, 0f);
        lossCount = 0;
    }

    /** The mean loss since the last read, after checking it and the summed gradient norm ({@link TrainingDivergedException}). */
    private double checkFinite() {
        return TrainingDivergedException.checkedMean(lossSum, normSum, lossCount, step, "mean consistency loss", outputDir, cfg.lr());
    }

    /** Runs body with the target (EMA) weights in the model, then restores the online weights. */
    public void withTargetWeights(Runnable body) {
        backup.copyFrom(model.parameters());
        model.parameters().copyFrom(target);
        try {
            body.run();
        } finally {
            model.parameters().copyFrom(backup);
        }
    }

    /** What a network trained here computes (for {@code objective.json} next to its weights). */
    public ModelObjective objective() { return ModelObjective.consistency(cfg.sigmaMin(), cfg.sigmaMax(), cfg.sigmaData()); }

    /**
     * Writes a checkpoint folder atomically ({@code CheckpointFolders.writeAtomically}): the TARGET weights under the model's
     * names in diffusion_pytorch_model.safetensors (what sampling loads), config.json by {@code configWriter},
     * objective.json, and training_state.safetensors with the four slabs (param, target, adam_m, adam_v, flat) and
     * metadata (format, step, config, level sampling, model class, data spec, losses), from which {@link #load} resumes.
     */
    public void save(Path folder, ConfigWriter configWriter, String dataSpec) throws IOException { save(folder, configWriter, dataSpec, null); }

    /** {@link #save(Path, ConfigWriter, String)}, also recording the folder the data was read from (null: none). */
    public void save(Path folder, ConfigWriter configWriter, String dataSpec, Path dataDir) throws IOException {
        checkFinite();
        Tensor params = model.parameters();
        float[][] host = {params.toArray(), target.toArray(), m.toArray(), v.toArray()};
        for (int s = 0; s < SLABS.length; s++)
            TrainingDivergedException.checkSlab(host[s], SLABS[s] + " slab", step, outputDir != null ? outputDir : folder.getParent(), cfg.lr());
        Map<String, Safetensors.F32Tensor> weights = Checkpoints.namedSlices(model, host[1], ""), state = new LinkedHashMap<>();
        for (int s = 0; s < SLABS.length; s++) state.put(SLABS[s], new Safetensors.F32Tensor(new int[]{host[s].length}, host[s]));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("step", Integer.toString(step));
        meta.put("config", JSON.writeValueAsString(cfg));
        meta.put("levels", Double.isNaN(pMean) ? "uniform" : "lognormal " + pMean + " " + pStd);
        meta.put("model", model.getClass().getName());
        meta.put("data_spec", dataSpec == null ? "" : dataSpec);
        if (dataDir != null) meta.put("data_dir", dataDir.toString());
        meta.put("loss_steps", JSON.writeValueAsString(lossSteps()));
        meta.put("loss_values", JSON.writeValueAsString(lossValues()));
        CheckpointFolders.writeAtomically(folder, tmp -> {
            Safetensors.write(tmp.resolve(Checkpoints.WEIGHTS), weights, Map.of("format", "pt"));
            if (configWriter != null) configWriter.write(tmp);
            objective().write(tmp);
            Safetensors.write(tmp.resolve(Checkpoints.STATE), state, meta);
        });
    }

    /** The consistency config stored in a checkpoint written by {@link #save}. */
    public static ConsistencyConfig readConfig(Path folder) throws IOException {
        try (var f = openState(folder)) {
            return JSON.readValue(f.metadata().get("config"), ConsistencyConfig.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException | IllegalArgumentException e) {
            throw new IOException(folder.resolve(Checkpoints.STATE) + ": the stored consistency config is invalid: " + e.getMessage(), e);
        }
    }

    /** The level sampling stored in a checkpoint: null for uniform levels, else {pMean, pStd}. */
    public static double[] readLevels(Path folder) throws IOException {
        try (var f = openState(folder)) {
            String l = f.metadata().getOrDefault("levels", "uniform");
            if (l.equals("uniform")) return null;
            String[] p = l.split(" ");
            if (p.length != 3 || !p[0].equals("lognormal")) throw new IOException(folder.resolve(Checkpoints.STATE) + ": bad 'levels' metadata '" + l + "'");
            return new double[]{Double.parseDouble(p[1]), Double.parseDouble(p[2])};
        }
    }

    /**
     * Restores the slabs, step and loss history of a checkpoint written by {@link #save} into this trainer (built with
     * the stored config, and the stored level sampling already set): training then continues exactly as if never stopped.
     */
    public void load(Path folder) throws IOException {
        try (var f = openState(folder)) {
            String cls = f.metadata().get("model");
            if (!model.getClass().getName().equals(cls))
                throw new IOException("checkpoint " + folder + " was written by a " + cls + " model, not " + model.getClass().getName());
            String levels = Double.isNaN(pMean) ? "uniform" : "lognormal " + pMean + " " + pStd;
            if (!levels.equals(f.metadata().getOrDefault("levels", "uniform")))
                throw new IOException("checkpoint " + folder + " used level sampling '" + f.metadata().get("levels") + "', this trainer '" + levels + "'");
            long slab = model.parameters().numel();
            for (String s : SLABS)
                if (!f.has(s) || f.shape(s).length != 1 || f.shape(s)[0] != slab)
                    throw new IOException("checkpoint " + folder + ": slab '" + s + "' is missing or not of " + slab
                            + " values (a different model size?)");
            int k;
            try {
                k = Integer.parseInt(f.metadata().get("step"));
            } catch (NumberFormatException e) {
                throw new IOException(folder.resolve(Checkpoints.STATE) + ": metadata 'step' is not an integer");
            }
            if (k < 0 || k > cfg.steps())
                throw new IOException("checkpoint " + folder + " is at step " + k + ", beyond the configured " + cfg.steps() + " steps; raise --steps");
            int[] ls = JSON.readValue(f.metadata().getOrDefault("loss_steps", "[]"), int[].class);
            double[] lv = JSON.readValue(f.metadata().getOrDefault("loss_values", "[]"), double[].class);
            if (ls.length != lv.length) throw new IOException(folder.resolve(Checkpoints.STATE) + ": loss_steps and loss_values differ in length");
            model.parameters().upload(f.readWeights("param"));
            target.upload(f.readWeights("target"));
            m.upload(f.readWeights("adam_m"));
            v.upload(f.readWeights("adam_v"));
            step = k;
            lossSteps.clear();
            losses.clear();
            for (int i = 0; i < ls.length; i++) { lossSteps.add(ls[i]); losses.add(lv[i]); }
            Elementwise.fill(lossSum, 0f);
            Elementwise.fill(normSum, 0f);
            lossCount = 0;
        }
    }

    private static Safetensors.File openState(Path folder) throws IOException { return Checkpoints.openState(folder, FORMAT); }

    @Override
    public void close() { ws.close(); }
}
