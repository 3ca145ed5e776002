package dev.diffuse.models.vae;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.diffuse.kernels.elementwise.Elementwise;
import dev.diffuse.kernels.loss.MseLoss;
import dev.diffuse.kernels.optim.Optim;
import dev.diffuse.models.data.Dataset;
import dev.diffuse.models.train.SlabState;
import dev.diffuse.models.train.Trainer;
import dev.diffuse.models.train.TrainingDivergedException;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;

/**
 * Trains an {@link AutoencoderKL} (the loss and its KL weight: {@link VaeTrainConfig}), one update t:
 * <pre>
 *   i_b ~ U{0..size-1}                          host, Philox (seed, 4t)           (the DDPM trainer's batch draw)
 *   z = mean + exp(logvar / 2) eps              eps in-kernel from (seed, 4t + 2)
 *   L = mean (decode(z) - x)^2 + klWeight / (B D) sum_b KL_b;  backward;  clip;  AdamW (warm-up);  EMA
 * </pre>
 * Every draw is a function of (seed, t), so {@link #load} resumes a run exactly (bit for bit on the Java device). The
 * host reads back only the two losses every logEvery steps. Checkpoints ({@link #save}) hold the EMA weights as a
 * diffusers AutoencoderKL folder whose scaling_factor is 1 / std of the latent means of the training images
 * ({@link Latents#std}), and the training state.
 */
public final class VaeTrainer implements AutoCloseable {
    public static final String FORMAT = "diffuse-vae-state-1";
    static final long STREAM_NOISE = 2;
    /** Training images whose latents set the scaling factor. */
    static final int SCALE_IMAGES = 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Progress callbacks, on the training thread. */
    public interface Listener {
        default void onStep(int step, int total) {}

        /** The mean per-pixel reconstruction MSE and the mean KL per image since the last report. */
        default void onLoss(int step, double reconstruction, double kl) {}
    }

    private final AutoencoderKL model;
    private final Dataset data;
    private final VaeTrainConfig cfg;
    private final Workspace ws;
    private final Tensor ema, m, v, backup, x, recon, dRecon, loss, kl, lossSum, klSum, norm, clip;
    private final float[] hostX;
    private final int[] idx;
    private int step, count;
    private final List<Integer> lossSteps = new ArrayList<>();
    private final List<Double> recValues = new ArrayList<>(), klValues = new ArrayList<>();
    private String dataSpec = "";
    /** The run folder (of the last checkpoint), named in a divergence message; null before the first checkpoint. */
    private Path outputDir;
    private Listener listener = new Listener() {};

    public VaeTrainer(AutoencoderKL model, Dataset data, VaeTrainConfig cfg) {
        if (!model.training()) throw new IllegalArgumentException("VAE trainer: the model was built for inference; build it with training = true");
        if (!Arrays.equals(model.config().imageShape(), data.sampleShape()))
            throw new IllegalArgumentException("VAE trainer: the model takes images of shape " + Arrays.toString(model.config().imageShape())
                    + " but " + data.description() + " has " + Arrays.toString(data.sampleShape()) + " (pad the images to sample_size)");
        if (cfg.batch() > model.maxBatch())
            throw new IllegalArgumentException("VAE trainer: batch " + cfg.batch() + " exceeds the model's maxBatch " + model.maxBatch());
        this.model = model;
        this.data = data;
        this.cfg = cfg;
        int slab = Math.toIntExact(model.parameters().numel()), per = data.sampleNumel(), b = cfg.batch();
        ws = new Workspace(model.device(), "VAE trainer", 4L * (4L * slab + 3L * b * per + 64) + (16L << 20));
        ema = ws.tensor(slab);
        m = ws.tensor(slab);
        v = ws.tensor(slab);
        backup = ws.tensor(slab);
        ema.copyFrom(model.parameters());
        int[] shape = dev.diffuse.models.unet.Graph.withBatch(b, data.sampleShape());
        x = ws.tensor(shape);
        recon = ws.tensor(shape);
        dRecon = ws.tensor(shape);
        loss = ws.tensor(1);
        kl = ws.tensor(1);
        lossSum = ws.tensor(1);
        klSum = ws.tensor(1);
        norm = ws.tensor(1);
        clip = ws.tensor(1);
        hostX = new float[b * per];
        idx = new int[b];
    }

    public VaeTrainer dataSpec(String spec) { this.dataSpec = spec == null ? "" : spec; return this; }

    public VaeTrainer listener(Listener l) { this.listener = l == null ? new Listener() {} : l; return this; }

    public int step() { return step; }
    public VaeTrainConfig config() { return cfg; }
    public AutoencoderKL model() { return model; }
    /** The EMA weights (the model's parameter layout). */
    public Tensor emaParameters() { return ema; }
    public int[] lossSteps() { return lossSteps.stream().mapToInt(Integer::intValue).toArray(); }
    public double[] reconstructionLosses() { return recValues.stream().mapToDouble(Double::doubleValue).toArray(); }
    public double[] klValues() { return klValues.stream().mapToDouble(Double::doubleValue).toArray(); }

    /** Trains until {@code target} steps are complete. */
    public void runUntil(int target) {
        if (target > cfg.steps()) throw new IllegalArgumentException("VAE trainer: step " + target + " exceeds the configured " + cfg.steps());
        while (step < target) {
            trainStep();
            if (step % cfg.logEvery() == 0 || step == cfg.steps()) readLoss();
            listener.onStep(step, cfg.steps());
        }
    }

    private void trainStep() {
        int t = step + 1, b = cfg.batch();
        for (int i = 0; i < b; i++) idx[i] = Trainer.batchIndex(cfg.seed(), t, i, data.size());
        data.fill(idx, hostX, null);
        x.upload(hostX);
        model.zeroGradients();
        model.forward(recon, kl, x, cfg.seed(), 4L * t + STREAM_NOISE);
        MseLoss.forward(loss, recon, x, null);
        Elementwise.add(lossSum, lossSum, loss);
        Elementwise.add(klSum, klSum, kl);
        count++;
        MseLoss.backward(dRecon, recon, x, null);
        model.backward(dRecon, (float) (cfg.klWeight() / x.numel()));
        Tensor scale = null;
        if (cfg.gradClip() > 0) {
            Optim.gradNorm(norm, clip, model.gradients(), 1f, (float) cfg.gradClip());
            scale = clip;
        }
        Optim.adamw(model.parameters(), m, v, model.gradients(), scale, 1f, cfg.adamw(t), t);
        Optim.ema(ema, model.parameters(), cfg.emaDecay(t));
        step = t;
    }

    private void readLoss() {
        if (count == 0) return;
        double rec = lossSum.toArray()[0] / count, k = klSum.toArray()[0] / ((double) count * cfg.batch());
        TrainingDivergedException.checkScalar(rec, "mean reconstruction loss", step - count + 1, step, outputDir, cfg.lr());
        TrainingDivergedException.checkScalar(k, "mean KL per image", step - count + 1, step, outputDir, cfg.lr());
        Elementwise.fill(lossSum, 0f);
        Elementwise.fill(klSum, 0f);
        count = 0;
        lossSteps.add(step);
        recValues.add(rec);
        klValues.add(k);
        listener.onLoss(step, rec, k);
    }

    /** Runs body with the EMA weights in the model, then restores the training weights. */
    public void withEmaWeights(Runnable body) { SlabState.withWeights(model, ema, backup, body); }

    /**
     * Writes a checkpoint folder atomically: the EMA weights as a diffusers AutoencoderKL folder (config.json with the
     * scaling factor measured on the EMA weights) and training_state.safetensors (param, ema, adam_m, adam_v; config,
     * data spec, loss histories), from which {@link #load} resumes. Returns the scaling factor.
     */
    public double save(Path folder) throws IOException {
        outputDir = folder.toAbsolutePath().getParent();
        if (count > 0) {  // a non-finite loss since the last read stops here, before anything is written (nothing is reset)
            TrainingDivergedException.checkScalar(lossSum.toArray()[0], "reconstruction loss (summed)", step - count + 1, step, outputDir, cfg.lr());
            TrainingDivergedException.checkScalar(klSum.toArray()[0], "KL (summed)", step - count + 1, step, outputDir, cfg.lr());
        }
        double[] std = new double[1];
        withEmaWeights(() -> std[0] = Latents.std(model, data, SCALE_IMAGES));
        if (!(std[0] > 0) || !Double.isFinite(std[0]))
            throw new IllegalStateException("VAE trainer: the latents' std is " + std[0] + " at step " + step + "; the model has diverged");
        AutoencoderKLConfig withScale = model.config().withScalingFactor(1 / std[0]);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("config", JSON.writeValueAsString(cfg));
        meta.put("data_spec", dataSpec);
        meta.put("scaling_factor", Double.toString(1 / std[0]));
        meta.putAll(SlabState.lossMeta("loss", lossSteps, recValues));
        meta.putAll(SlabState.lossMeta("kl", lossSteps, klValues));
        SlabState.save(folder, model, FORMAT, step, ema, slabs(), meta,
                tmp -> java.nio.file.Files.writeString(tmp.resolve(VaeCheckpoint.CONFIG), withScale.toJson()), cfg.lr());
        return 1 / std[0];
    }

    private Map<String, Tensor> slabs() {
        Map<String, Tensor> s = new LinkedHashMap<>();
        s.put("param", model.parameters());
        s.put("ema", ema);
        s.put("adam_m", m);
        s.put("adam_v", v);
        return s;
    }

    /** The training config stored in a checkpoint. */
    public static VaeTrainConfig readConfig(Path folder) throws IOException {
        String c = SlabState.metadata(folder, FORMAT).get("config");
        try {
            return JSON.readValue(c, VaeTrainConfig.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException | IllegalArgumentException e) {
            throw new IOException(folder + ": the stored VAE training config is invalid: " + e.getMessage(), e);
        }
    }

    /** The data spec stored in a checkpoint ("" when none). */
    public static String readDataSpec(Path folder) throws IOException {
        return SlabState.metadata(folder, FORMAT).getOrDefault("data_spec", "");
    }

    /** Restores slabs, step and loss histories from a checkpoint written by {@link #save}: training continues exactly. */
    public void load(Path folder) throws IOException {
        Map<String, String> meta = SlabState.load(folder, FORMAT, model, slabs(), cfg.steps());
        step = Integer.parseInt(meta.get("step"));
        List<Integer> klSteps = new ArrayList<>();
        SlabState.readLoss(meta, "loss", lossSteps, recValues, folder);
        SlabState.readLoss(meta, "kl", klSteps, klValues, folder);
        dataSpec = meta.getOrDefault("data_spec", "");
        Elementwise.fill(lossSum, 0f);
        Elementwise.fill(klSum, 0f);
        count = 0;
    }

    @Override
    public void close() { ws.close(); }
}
