package dev.diffuse.models.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.diffuse.kernels.diffusion.QSample;
import dev.diffuse.kernels.elementwise.Elementwise;
import dev.diffuse.kernels.flow.FlowMatching;
import dev.diffuse.kernels.loss.MseLoss;
import dev.diffuse.kernels.optim.Optim;
import dev.diffuse.models.data.Dataset;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.MemoryBudget;
import dev.diffuse.runtime.Philox;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;

/**
 * DDPM training with the epsilon-prediction loss (Ho et al. 2020, Algorithm 1), one step:
 * <pre>
 *   i_b ~ U{0..size-1}, t_b ~ U{0..N-1}               host, Philox under (seed, stream 4*step + 0 / 1)
 *   x0 = data[i], eps ~ N(0, I) drawn in-kernel        (seed, stream 4*step + 2), written out as the target
 *   x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps       fused q_sample, per-sample coefficients from the host
 *   L = mean (model(x_t, t, y) - eps)^2;  backward;  clip = min(1, gradClip / ||g||)
 *   AdamW (lr linearly warmed up), EMA with diffusers' warm-up decay min(emaDecay, t / (t + 9))
 * </pre>
 * With {@link TrainConfig.Objective#FLOW} the middle two lines become flow matching (linear path, velocity target):
 * t_b ~ U(0, 1) from the timestep stream ({@link FlowTimes}), x_t = (1 - t) eps + t x0
 * and target x0 - eps in the fused FlowMatching kernel, network timestep 1000 t; everything else is the same.
 * With {@link TrainConfig#labelDropout} p &gt; 0 (classifier-free guidance training, Ho and Salimans 2022), label b is
 * replaced by the model's last class row ("no class", {@link #nullClass}) when word b of Philox stream 4*step + 3 is
 * below p * 2^32, on both batch paths.
 * Everything stays on the device: per step the host uploads the batch and one (4, B) block of t, coefficients and
 * labels, and reads nothing back except the mean loss every {@code logEvery} steps (accumulated on the device in
 * between). Every random draw is a function of (seed, step), so a run is reproducible and {@link #load} resumes it
 * exactly; on the Java device the weights are bit-identical.
 *
 * <p>Use: {@code new Trainer(model, data, cfg).dataSpec(spec).outputDir(dir).configWriter(w).listener(l).run()}.
 */
public final class Trainer implements AutoCloseable {
    static final int STREAM_INDICES = 0, STREAM_TIMESTEPS = 1, STREAM_NOISE = 2, STREAM_LABEL_DROP = 3;
    private static final String BATCH_SRC = "dev/diffuse/models/train/batch.cl";
    /** Steps between queue drains when nothing else synchronises (bounds how far the host runs ahead of the device). */
    static final int SYNC_EVERY = 8;

    /**
     * Where batches are assembled. HOST: gathered into a host array and uploaded every step (a blocking write, so
     * the host waits for the previous step). DEVICE: the whole dataset is uploaded once and one kernel draws the
     * same indices and timesteps as the host path and gathers the batch, so a step enqueues kernels only. AUTO:
     * DEVICE on OpenCL when the data take at most a quarter of the device memory, else HOST.
     */
    public enum DataPlacement { AUTO, HOST, DEVICE }

    final TrainableModel model;
    final Dataset data;
    final TrainConfig cfg;
    private final float[] sqrtAb, sqrtOneMinusAb;
    private final Workspace ws;
    final Tensor ema, m, v;
    /** Labels go to the model only when it has a class embedding; an unconditional model trains on labelled data too. */
    private final boolean conditional;
    /** The class id that replaces dropped labels (-1: none are dropped) and the 32-bit threshold p * 2^32. */
    private final int nullClass;
    private final long dropBelow;
    private final Tensor x0, xt, eps, out, dOut, meta, tT, aT, sT, labelsT, loss, lossSum, norm, normSum, clip;
    private Tensor backup;
    private final Tensor devData, devLabels, devSqrtAb, devSqrtOneMinusAb; // null on the host path
    /** Row stride of meta: each row starts on a {@link Workspace#SLAB_ALIGN_BYTES} boundary, as each is a kernel argument of its own. */
    private final int batch, perSample, metaStride;
    private final int[] idx;
    private final float[] hostX, hostMeta, hostLabels;
    int step;
    private int lossCount, keepLast;
    final List<Integer> lossSteps = new ArrayList<>();
    final List<Double> lossValues = new ArrayList<>();
    String dataSpec = "", dataDir = "";
    private Path outputDir;
    ConfigWriter configWriter;
    private TrainListener listener = new TrainListener() {};

    public Trainer(TrainableModel model, Dataset data, TrainConfig cfg) {
        this(model, data, cfg, DataPlacement.AUTO);
    }

    public Trainer(TrainableModel model, Dataset data, TrainConfig cfg, DataPlacement placement) {
        this.model = model;
        this.data = data;
        this.cfg = cfg;
        if (!Arrays.equals(model.sampleShape(), data.sampleShape()))
            throw new IllegalArgumentException("trainer: the model takes samples of shape " + Arrays.toString(model.sampleShape())
                    + " but the dataset " + data.description() + " has " + Arrays.toString(data.sampleShape()));
        if (cfg.batch() > model.maxBatch())
            throw new IllegalArgumentException("trainer: batch " + cfg.batch() + " exceeds the model's maxBatch " + model.maxBatch()
                    + "; build the model for a larger batch or lower --batch");
        if (model.numClasses() > 0 && data.numClasses() == 0)
            throw new IllegalArgumentException("trainer: the model is class-conditional (" + model.numClasses() + " classes) but "
                    + data.description() + " has no labels; train an unconditional model or use labelled data");
        if (model.numClasses() > 0 && data.numClasses() > model.numClasses())
            throw new IllegalArgumentException("trainer: the data has " + data.numClasses() + " classes but the model's class embedding has "
                    + model.numClasses() + " rows");
        this.conditional = model.numClasses() > 0;
        if (cfg.labelDropout() > 0 && !(conditional && model.numClasses() > data.numClasses()))
            throw new IllegalArgumentException("trainer: label dropout needs a class-conditional model with one class row more than the data's "
                    + data.numClasses() + " classes (the last row is \"no class\"); the model has " + model.numClasses()
                    + " (--class-conditional adds it when --label-dropout is above 0)");
        this.nullClass = cfg.labelDropout() > 0 ? model.numClasses() - 1 : -1;
        this.dropBelow = (long) Math.floor(cfg.labelDropout() * 0x1p32);
        var sched = cfg.schedule();
        int n = sched.trainSteps();
        sqrtAb = new float[n];
        sqrtOneMinusAb = new float[n];
        for (int t = 0; t < n; t++) {
            sqrtAb[t] = (float) Math.sqrt(sched.alphaBar(t));
            sqrtOneMinusAb[t] = (float) Math.sqrt(1 - sched.alphaBar(t));
        }
        batch = cfg.batch();
        perSample = data.sampleNumel();
        long slab = model.parameters().numel();
        long dataFloats = deviceDataFloats(data, n);
        boolean onDevice = switch (placement) {
            case HOST -> false;
            case DEVICE -> true;
            case AUTO -> dataOnDevice(model.device(), data, n);
        };
        long bytes = bytesNeeded(slab, batch, perSample, onDevice ? dataFloats : 0);
        MemoryBudget.require(model.device(), String.format(java.util.Locale.ROOT, "the trainer's state for batch %d (EMA, AdamW "
                + "moments, batch buffers%s) beside the model", batch, onDevice ? ", the data set" : ""), bytes, "lower --batch");
        ws = new Workspace(model.device(), "trainer", bytes);
        ema = ws.tensor(Math.toIntExact(slab));
        m = ws.tensor(Math.toIntExact(slab));
        v = ws.tensor(Math.toIntExact(slab));
        ema.copyFrom(model.parameters());
        int[] shape = new int[data.sampleShape().length + 1];
        shape[0] = batch;
        System.arraycopy(data.sampleShape(), 0, shape, 1, shape.length - 1);
        x0 = ws.tensor(shape);
        xt = ws.tensor(shape);
        eps = ws.tensor(shape);
        out = ws.tensor(shape);
        dOut = ws.tensor(shape);
        metaStride = alignedStride(batch);
        meta = ws.tensor(4, metaStride);
        tT = meta.view(0, batch);
        aT = meta.view(metaStride, batch);
        sT = meta.view(2L * metaStride, batch);
        labelsT = meta.view(3L * metaStride, batch);
        loss = ws.tensor(1);
        lossSum = ws.tensor(1);
        norm = ws.tensor(1);
        normSum = ws.tensor(1);
        clip = ws.tensor(1);
        idx = new int[batch];
        hostX = new float[batch * perSample];
        hostMeta = new float[4 * metaStride];
        hostLabels = new float[batch];
        if (onDevice) {
            if (!(model.device() instanceof ClDevice))
                throw new IllegalArgumentException("trainer: device-resident data needs an OpenCL device, got " + model.device().id());
            devData = ws.tensor(data.size(), perSample);
            devLabels = ws.tensor(data.size());
            devSqrtAb = Tensor.of(model.device(), sqrtAb, n);
            devSqrtOneMinusAb = Tensor.of(model.device(), sqrtOneMinusAb, n);
            uploadDataset();
        } else {
            devData = devLabels = devSqrtAb = devSqrtOneMinusAb = null;
        }
    }

    /** Where {@link DataPlacement#AUTO} puts {@code data}: on an OpenCL device when it takes at most a quarter of its memory. */
    public static boolean dataOnDevice(dev.diffuse.runtime.Device device, Dataset data, int trainTimesteps) {
        return device instanceof ClDevice && 4 * deviceDataFloats(data, trainTimesteps) <= device.globalMemoryBytes() / 4;
    }

    /** Floats the device copy of {@code data} takes: samples, labels and the two coefficient tables. */
    public static long deviceDataFloats(Dataset data, int trainTimesteps) {
        return (long) data.size() * (data.sampleNumel() + 1) + 2L * trainTimesteps;
    }

    /**
     * Device bytes of a trainer (beyond the model): EMA and two AdamW moment slabs plus a backup slab for
     * {@link #withEmaWeights} ({@code slabFloats} each), six batch buffers, and {@code deviceDataFloats} when the data set
     * lives on the device.
     */
    public static long bytesNeeded(long slabFloats, int batch, int perSample, long deviceDataFloats) {
        return 4 * (4 * slabFloats + 6L * batch * perSample + 4L * batch + 64 + (deviceDataFloats > 0 ? deviceDataFloats + 1024 * 4 : 0))
                + (16L << 20);
    }

    private void uploadDataset() {
        int chunk = Math.max(1, Math.min(data.size(), (1 << 22) / perSample));
        float[] buf = new float[chunk * perSample], lab = new float[chunk];
        float[] allLabels = new float[data.size()];
        for (int first = 0; first < data.size(); first += chunk) {
            int c = Math.min(chunk, data.size() - first);
            int[] ids = new int[c];
            for (int i = 0; i < c; i++) ids[i] = first + i;
            data.fill(ids, buf, lab);
            devData.view((long) first * perSample, c * perSample).upload(c == chunk ? buf : java.util.Arrays.copyOf(buf, c * perSample));
            System.arraycopy(lab, 0, allLabels, first, c);
        }
        devLabels.upload(allLabels);
    }

    /** Whether batches are gathered on the device ({@link DataPlacement}). */
    public boolean deviceData() { return devData != null; }

    /** Data spec recorded in checkpoints (e.g. "fashion-mnist"). */
    public Trainer dataSpec(String spec) { this.dataSpec = spec == null ? "" : spec; return this; }

    /** Folder the data set was read from (recorded in checkpoints, so a resumed run reads the same files); null: none. */
    public Trainer dataDir(Path dir) { this.dataDir = dir == null ? "" : dir.toString(); return this; }

    /**
     * After each checkpoint, keep only the {@code k} newest {@code checkpoint-N} folders of the output folder (the one
     * just written among them); 0 (the default) keeps every one ({@link CheckpointFolders#prune}).
     */
    public Trainer keepLast(int k) {
        if (k < 0) throw new IllegalArgumentException("trainer: keepLast must be >= 0 (0 keeps every checkpoint), got " + k);
        this.keepLast = k;
        return this;
    }

    /** Folder for {@code checkpoint-STEP} sub-folders; null (default) writes none. */
    public Trainer outputDir(Path dir) { this.outputDir = dir; return this; }

    /** Writes the model's config.json into a checkpoint folder being assembled (so it loads in diffusers). */
    public Trainer configWriter(ConfigWriter w) { this.configWriter = w; return this; }

    public Trainer listener(TrainListener l) { this.listener = l == null ? new TrainListener() {} : l; return this; }

    public TrainableModel model() { return model; }
    public TrainConfig config() { return cfg; }
    /** Completed optimizer steps. */
    public int step() { return step; }
    /** The EMA weights (same layout as the model's parameter slab). */
    public Tensor emaParameters() { return ema; }
    public int[] lossSteps() { return lossSteps.stream().mapToInt(Integer::intValue).toArray(); }
    public double[] lossValues() { return lossValues.stream().mapToDouble(Double::doubleValue).toArray(); }

    /** Runs to {@code cfg.steps()}; writes a final checkpoint if an output folder is set and the last step has none. */
    public void run() throws IOException {
        runUntil(cfg.steps());
        if (outputDir != null && (cfg.checkpointEvery() == 0 || step % cfg.checkpointEvery() != 0)) checkpoint();
    }

    /** Trains until {@code target} steps are complete (no final checkpoint). */
    public void runUntil(int target) throws IOException {
        if (target > cfg.steps()) throw new IllegalArgumentException("trainer: target step " + target + " exceeds the configured " + cfg.steps());
        long t0 = System.nanoTime();
        int first = step;
        while (step < target) {
            trainStep();
            double loss = Double.NaN;
            if (step % cfg.logEvery() == 0 || step == cfg.steps()) loss = readLoss();
            else if (devData != null && step % SYNC_EVERY == 0) model.device().finish();
            double rate = (step - first) / Math.max(1e-9, (System.nanoTime() - t0) / 1e9);
            listener.onStep(step, cfg.steps(), loss, rate);
            if (cfg.sampleEvery() > 0 && step % cfg.sampleEvery() == 0) listener.onSampleDue(step, this);
            if (outputDir != null && cfg.checkpointEvery() > 0 && step % cfg.checkpointEvery() == 0) checkpoint();
        }
    }

    /** Batch index i of update {@code t}: 64 random bits mod size (bias below 2^-32 for any dataset). */
    public static int batchIndex(long seed, int t, int i, int size) {
        long stream = 4L * t + STREAM_INDICES;
        long r = (Philox.uint32(seed, stream, 2L * i) << 32) | Philox.uint32(seed, stream, 2L * i + 1);
        return (int) Long.remainderUnsigned(r, size);
    }

    /** Timestep of sample i of update {@code t}, uniform in 0..n-1. */
    static int timestep(long seed, int t, int i, int n) {
        return (int) (Philox.uint32(seed, 4L * t + STREAM_TIMESTEPS, i) % n);
    }

    /** Whether the label of sample i of update {@code t} is dropped: word i of stream 4t + 3 below p * 2^32. */
    static boolean labelDropped(long seed, int t, int i, long dropBelow) {
        return Philox.uint32(seed, 4L * t + STREAM_LABEL_DROP, i) < dropBelow;
    }

    /** The "no class" id dropped labels take (the model's last class row), -1 without label dropout. */
    public int nullClass() { return nullClass; }

    private void trainStep() {
        int t = step + 1;
        long seed = cfg.seed();
        int n = sqrtAb.length;
        if (devData != null) {
            ((ClDevice) model.device()).kernel(BATCH_SRC, "prepare_batch").launch1d((long) batch * perSample, 256,
                    x0, meta, devData, devLabels, devSqrtAb, devSqrtOneMinusAb, batch, metaStride, perSample, (long) data.size(), n,
                    seed, (long) t, 1, dropBelow, nullClass);
        } else {
            prepareHostBatch(seed, t, n);
        }
        if (cfg.objective() == TrainConfig.Objective.FLOW) {
            // t_b ~ U(0, 1) over the integer timesteps just written (same stream); eps now holds the target x0 - eps
            FlowTimes.draw(meta, batch, seed, 4L * t + STREAM_TIMESTEPS, TrainConfig.FLOW_TIME_SCALE);
            FlowMatching.pairDrawn(xt, eps, x0, aT, seed, 4L * t + STREAM_NOISE);
        } else {
            QSample.applyDrawn(xt, eps, x0, aT, sT, seed, 4L * t + STREAM_NOISE);
        }
        model.zeroGradients();
        model.forward(out, xt, tT, conditional ? labelsT : null);
        MseLoss.forward(loss, out, eps, null);
        Elementwise.add(lossSum, lossSum, loss);
        lossCount++;
        MseLoss.backward(dOut, out, eps, null);
        model.backward(dOut, null);
        // the norm is summed on the device and read back with the loss, so a non-finite gradient stops training
        float maxNorm = cfg.maxNorm();
        Optim.gradNorm(norm, clip, model.gradients(), 1f, maxNorm);
        Elementwise.add(normSum, normSum, norm);
        Optim.adamw(model.parameters(), m, v, model.gradients(), Float.isFinite(maxNorm) ? clip : null, 1f, cfg.adamw(t), t);
        Optim.ema(ema, model.parameters(), emaDecay(t));
        step = t;
    }

    /** The host path of batch preparation (the definition {@code batch.cl} reproduces). */
    private void prepareHostBatch(long seed, int t, int n) {
        for (int i = 0; i < batch; i++) {
            idx[i] = batchIndex(seed, t, i, data.size());
            int ts = timestep(seed, t, i, n);
            hostMeta[i] = ts;
            hostMeta[metaStride + i] = sqrtAb[ts];
            hostMeta[2 * metaStride + i] = sqrtOneMinusAb[ts];
        }
        data.fill(idx, hostX, hostLabels);
        for (int i = 0; nullClass >= 0 && i < batch; i++)
            if (labelDropped(seed, t, i, dropBelow)) hostLabels[i] = nullClass;
        System.arraycopy(hostLabels, 0, hostMeta, 3 * metaStride, batch);
        x0.upload(hostX);
        meta.upload(hostMeta);
    }

    /**
     * A row length of at least {@code n} floats that keeps every row of a (rows, stride) block on a
     * {@link Workspace#SLAB_ALIGN_BYTES} boundary: OpenCL sub-buffers must start on CL_DEVICE_MEM_BASE_ADDR_ALIGN
     * (512 bytes on NVIDIA), so rows at byte offsets of 4 x batch would fail there for most batch sizes.
     */
    public static int alignedStride(int n) {
        int a = Workspace.SLAB_ALIGN_BYTES / 4;
        return (n + a - 1) / a * a;
    }

    /** The batch (x0) and meta block (t, a, s, labels; rows {@code alignedStride(batch)} apart) of the last step, for tests. */
    float[][] lastBatch() { return new float[][]{x0.toArray(), meta.toArray()}; }

    /** diffusers EMAModel.get_decay without warm-up option: min(decay, (1 + k) / (10 + k)) with k = t - 1. */
    double emaDecay(int t) {
        return Math.min(cfg.emaDecay(), (double) t / (t + 9));
    }

    /**
     * Reads the mean loss accumulated since the last read (the one host read-back, with the summed gradient norm),
     * records and reports it; a non-finite loss or gradient norm stops training ({@link TrainingDivergedException}).
     */
    private double readLoss() {
        if (lossCount == 0) return Double.NaN;
        double mean = checkFinite();
        Elementwise.fill(lossSum, 0f);
        Elementwise.fill(normSum, 0f);
        lossCount = 0;
        lossSteps.add(step);
        lossValues.add(mean);
        listener.onLoss(step, mean);
        return mean;
    }

    /** The mean loss since the last read, after checking it and the gradient norms of those steps are finite. */
    private double checkFinite() {
        return TrainingDivergedException.checkedMean(lossSum, normSum, lossCount, step, "mean loss", outputDir, cfg.lr());
    }

    /** Runs {@code body} with the EMA weights in the model (what sampling should use), then restores the training weights. */
    public void withEmaWeights(Runnable body) {
        if (backup == null) backup = ws.tensor(Math.toIntExact(model.parameters().numel()));
        backup.copyFrom(model.parameters());
        model.parameters().copyFrom(ema);
        try {
            body.run();
        } finally {
            model.parameters().copyFrom(backup);
        }
    }

    /** Saves {@code outputDir/checkpoint-STEP} and tells the listener. */
    public Path checkpoint() throws IOException {
        if (outputDir == null) throw new IllegalStateException("trainer: no output folder set for checkpoints");
        Path folder = outputDir.resolve("checkpoint-" + step);
        save(folder);
        CheckpointFolders.prune(outputDir, keepLast, step);
        listener.onCheckpoint(step, folder);
        return folder;
    }

    /** The output folder for checkpoints (null: none). */
    Path outputDir() { return outputDir; }

    /**
     * Writes a complete checkpoint to {@code folder} atomically ({@link Checkpoints#save}) after checking that the loss
     * and gradient norms since the last read and every saved value are finite: a diverged run is never saved.
     */
    public void save(Path folder) throws IOException {
        checkFinite();
        Checkpoints.save(this, folder);
    }

    /** Restores weights, EMA, Adam moments, step and loss history from a checkpoint written by {@link #save}. */
    public void load(Path folder) throws IOException { Checkpoints.load(this, folder); }

    /** The training config stored in a checkpoint. */
    public static TrainConfig readConfig(Path folder) throws IOException { return Checkpoints.readConfig(folder); }

    /** A trainer with the checkpoint's config, continued from it: training then goes on exactly as if never stopped. */
    public static Trainer resume(Path folder, TrainableModel model, Dataset data) throws IOException {
        Trainer tr = new Trainer(model, data, readConfig(folder));
        tr.load(folder);
        return tr;
    }

    /** The latest complete {@code checkpoint-N} folder under {@code outputDir}, or null. */
    public static Path latestCheckpoint(Path outputDir) throws IOException { return Checkpoints.latest(outputDir); }

    void restoreLossState(int[] steps, double[] values) {
        lossSteps.clear();
        lossValues.clear();
        for (int i = 0; i < steps.length; i++) {
            lossSteps.add(steps[i]);
            lossValues.add(values[i]);
        }
        Elementwise.fill(lossSum, 0f);
        Elementwise.fill(normSum, 0f);
        lossCount = 0;
    }

    @Override
    public void close() {
        if (devSqrtAb != null) {
            devSqrtAb.close();
            devSqrtOneMinusAb.close();
        }
        ws.close();
    }
}
