package dev.diffuse.models.distill;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.diffuse.kernels.diffusion.PerSampleStep;
import dev.diffuse.kernels.diffusion.QSample;
import dev.diffuse.kernels.elementwise.Elementwise;
import dev.diffuse.kernels.loss.MseLoss;
import dev.diffuse.kernels.optim.Optim;
import dev.diffuse.models.data.Dataset;
import dev.diffuse.models.train.ConfigWriter;
import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.models.train.SlabState;
import dev.diffuse.models.train.TrainableModel;
import dev.diffuse.models.train.Trainer;
import dev.diffuse.models.train.TrainingDivergedException;
import dev.diffuse.runtime.Philox;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.schedule.DiscreteSchedule;

/**
 * Consistency distillation (Song et al. 2023, Algorithm 2) of an epsilon teacher into a student of the same
 * architecture that starts from the teacher's weights, on the teacher's DDIM grid t_n = n s (s = 1000 / N), one update k:
 * <pre>
 *   i_b ~ U{0..size-1}, n_b ~ U{1..M}, M = top / s           host, Philox (seed, 4k) / (seed, 4k + 1)
 *   x_hi = sqrt(ab_hi) x0 + sqrt(1 - ab_hi) eps               eps in-kernel (seed, 4k + 2); hi = t_n, lo = t_{n-1}
 *   x_lo = sqrt(ab_lo) clip(x0_teacher) + sqrt(1 - ab_lo) eps_teacher(x_hi, hi)    one DDIM step of the teacher
 *   L = mean (f_theta(x_hi, hi) - f_target(x_lo, lo))^2      f = a_t x + b_t eps(x, t) ({@link DdpmConsistency});
 *                                                            f(x, 0) = x: the lowest link ends on the boundary
 *   d eps = b_hi 2 (f - f_target) / n;  backward (student only);  clip;  Adam;  target = mu target + (1 - mu) theta
 * </pre>
 * With N = 25 the grid is the teacher's own DDIM-25 trajectory (960, 920, ..., 40, 0), so the student learns to jump
 * from any point of it to where DDIM-25 ends. The target network is the student with the target slab swapped in for
 * one forward; its forward runs before the online one, whose activations the backward uses. Every draw is a function
 * of (seed, k): {@link #load} resumes bit for bit. Per step the host uploads the batch, eight per-sample rows and the
 * teacher's (5, B) coefficients, and reads back only the mean loss every logEvery steps.
 */
public final class ConsistencyDistiller implements AutoCloseable {
    public static final String FORMAT = "diffuse-consistency-distillation-state-1";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final TrainableModel student, teacher;
    private final Dataset data;
    private final DistillConfig cfg;
    private final DiscreteSchedule schedule = DiscreteSchedule.ddpmDefault();
    private final Workspace ws;
    private final Tensor target, backup, m, v, x0, xhi, xlo, eps, net, f, ftg, dnet, teach, loss, lossSum, norm, clip;
    /** Per-sample rows, each its own buffer (kernel arguments must not be unaligned sub-buffers on some GPUs). */
    private final Tensor[] rows = new Tensor[ROWS];
    private static final int T_HI = 0, T_LO = 1, A_HI = 2, S_HI = 3, F_HI_A = 4, F_HI_B = 5, F_LO_A = 6, F_LO_B = 7, ROWS = 8;
    private final int batch, per;
    private final float[] hostX, hostTeach;
    private final float[][] hostRows;
    private final int[] idx;
    private int step, count;
    private final List<Integer> lossSteps = new ArrayList<>();
    private final List<Double> losses = new ArrayList<>();
    /** The run folder (of the last checkpoint), named in a divergence message; null before the first checkpoint. */
    private Path outputDir;

    /** Copies the teacher's weights into the student (and the target): the student must have the teacher's layout. */
    public ConsistencyDistiller(TrainableModel student, TrainableModel teacher, Dataset data, DistillConfig cfg) {
        if (!Arrays.equals(student.sampleShape(), data.sampleShape()) || !Arrays.equals(teacher.sampleShape(), data.sampleShape()))
            throw new IllegalArgumentException("distillation: student " + Arrays.toString(student.sampleShape()) + ", teacher "
                    + Arrays.toString(teacher.sampleShape()) + " and data " + Arrays.toString(data.sampleShape()) + " must take the same samples");
        if (cfg.batch() > student.maxBatch() || cfg.batch() > teacher.maxBatch())
            throw new IllegalArgumentException("distillation: batch " + cfg.batch() + " exceeds the student's or teacher's maxBatch ("
                    + student.maxBatch() + ", " + teacher.maxBatch() + ")");
        if (student.numClasses() > 0 || teacher.numClasses() > 0)
            throw new IllegalArgumentException("distillation: class-conditional models are not supported in this version");
        if (!layout(student).equals(layout(teacher)))
            throw new IllegalArgumentException("distillation: the student starts from the teacher's weights, so it needs the teacher's "
                    + "architecture (parameter names and shapes differ)");
        this.student = student;
        this.teacher = teacher;
        this.data = data;
        this.cfg = cfg;
        batch = cfg.batch();
        per = data.sampleNumel();
        int slab = Math.toIntExact(student.parameters().numel());
        ws = new Workspace(student.device(), "consistency distiller", 4L * (4L * slab + 9L * batch * per + 30L * batch + 64) + (16L << 20));
        student.parameters().copyFrom(teacher.parameters());
        target = ws.tensor(slab);
        backup = ws.tensor(slab);
        m = ws.tensor(slab);
        v = ws.tensor(slab);
        target.copyFrom(student.parameters());
        int[] shape = dev.diffuse.models.unet.Graph.withBatch(batch, data.sampleShape());
        x0 = ws.tensor(shape); xhi = ws.tensor(shape); xlo = ws.tensor(shape); eps = ws.tensor(shape); net = ws.tensor(shape);
        f = ws.tensor(shape); ftg = ws.tensor(shape); dnet = ws.tensor(shape);
        for (int r = 0; r < ROWS; r++) rows[r] = ws.tensor(batch);
        teach = ws.tensor(PerSampleStep.ROWS, batch);
        loss = ws.tensor(1); lossSum = ws.tensor(1); norm = ws.tensor(1); clip = ws.tensor(1);
        hostX = new float[batch * per];
        hostRows = new float[ROWS][batch];
        hostTeach = new float[PerSampleStep.ROWS * batch];
        idx = new int[batch];
    }

    private static Map<String, List<Integer>> layout(TrainableModel m) {
        Map<String, List<Integer>> l = new LinkedHashMap<>();
        m.namedParameters().forEach((n, t) -> l.put(n, Arrays.stream(t.shape()).boxed().toList()));
        return l;
    }

    public int step() { return step; }
    public DistillConfig config() { return cfg; }
    public Tensor targetParameters() { return target; }
    public int[] lossSteps() { return lossSteps.stream().mapToInt(Integer::intValue).toArray(); }
    public double[] lossValues() { return losses.stream().mapToDouble(Double::doubleValue).toArray(); }

    /** What the student computes (for objective.json). */
    public ModelObjective objective() { return ModelObjective.consistencyDdpm(cfg.teacherSteps(), cfg.topTimestep(), cfg.sigmaData()); }

    /** Trains until {@code last} steps are complete, calling {@code onLoss} (may be null) at every read-back. */
    public void runUntil(int last, java.util.function.ObjIntConsumer<Double> onLoss) {
        if (last > cfg.steps()) throw new IllegalArgumentException("distillation: step " + last + " exceeds the configured " + cfg.steps());
        while (step < last) {
            trainStep();
            if (step % cfg.logEvery() == 0 || step == cfg.steps()) {
                double l = readLoss();
                if (onLoss != null && !Double.isNaN(l)) onLoss.accept(l, step);
            }
        }
    }

    private void trainStep() {
        int k = step + 1, s = cfg.stride(), levels = cfg.levels();
        long seed = cfg.seed();
        for (int b = 0; b < batch; b++) {
            idx[b] = Trainer.batchIndex(seed, k, b, data.size());
            int n = 1 + (int) (Philox.uint32(seed, 4L * k + 1, b) % levels);
            int hi = n * s, lo = (n - 1) * s;
            double aHi = Math.sqrt(schedule.alphaBar(hi)), sgHi = Math.sqrt(1 - schedule.alphaBar(hi));
            double aLo = Math.sqrt(schedule.alphaBar(lo)), sgLo = Math.sqrt(1 - schedule.alphaBar(lo));
            hostRows[T_HI][b] = hi;
            hostRows[T_LO][b] = lo;
            hostRows[A_HI][b] = (float) aHi;
            hostRows[S_HI][b] = (float) sgHi;
            // teacher's DDIM step hi -> lo: x_lo = a_lo clip((x - s_hi eps) / a_hi) + s_lo eps
            hostTeach[PerSampleStep.A * batch + b] = 0;
            hostTeach[PerSampleStep.B * batch + b] = (float) aLo;
            hostTeach[PerSampleStep.D * batch + b] = (float) sgLo;
            hostTeach[PerSampleStep.P * batch + b] = (float) (1 / aHi);
            hostTeach[PerSampleStep.Q * batch + b] = (float) (-sgHi / aHi);
            double[] ch = DdpmConsistency.coefficients(schedule, hi, cfg.sigmaData()), cl = DdpmConsistency.coefficients(schedule, lo, cfg.sigmaData());
            hostRows[F_HI_A][b] = (float) ch[0];
            hostRows[F_HI_B][b] = (float) ch[1];
            hostRows[F_LO_A][b] = (float) cl[0];
            hostRows[F_LO_B][b] = (float) cl[1];
        }
        data.fill(idx, hostX, null);
        x0.upload(hostX);
        for (int r = 0; r < ROWS; r++) rows[r].upload(hostRows[r]);
        teach.upload(hostTeach);
        QSample.applyDrawn(xhi, null, x0, rows[A_HI], rows[S_HI], seed, 4L * k + 2);
        teacher.forward(eps, xhi, rows[T_HI], null);
        float lim = cfg.clipTeacher() ? 1f : Float.POSITIVE_INFINITY;
        PerSampleStep.clipX0(xlo, xhi, eps, teach, -lim, lim);
        // target: f_target(x_lo, lo) with the target weights, no gradient
        backup.copyFrom(student.parameters());
        student.parameters().copyFrom(target);
        student.forward(net, xlo, rows[T_LO], null);
        QSample.apply(ftg, xlo, net, rows[F_LO_A], rows[F_LO_B]);
        student.parameters().copyFrom(backup);
        // online: f_theta(x_hi, hi), the loss and its gradient w.r.t. the network's epsilon (weights b_hi)
        student.zeroGradients();
        student.forward(net, xhi, rows[T_HI], null);
        QSample.apply(f, xhi, net, rows[F_HI_A], rows[F_HI_B]);
        MseLoss.forward(loss, f, ftg, null);
        Elementwise.add(lossSum, lossSum, loss);
        count++;
        MseLoss.backward(dnet, f, ftg, rows[F_HI_B]);
        student.backward(dnet, null);
        Tensor scale = null;
        if (cfg.gradClip() > 0) {
            Optim.gradNorm(norm, clip, student.gradients(), 1f, (float) cfg.gradClip());
            scale = clip;
        }
        Optim.adamw(student.parameters(), m, v, student.gradients(), scale, 1f, cfg.adam(k), k);
        Optim.ema(target, student.parameters(), cfg.targetDecay());
        step = k;
    }

    private double readLoss() {
        if (count == 0) return Double.NaN;
        double l = lossSum.toArray()[0] / count;
        TrainingDivergedException.checkScalar(l, "mean consistency loss", step - count + 1, step, outputDir, cfg.lr());
        Elementwise.fill(lossSum, 0f);
        count = 0;
        lossSteps.add(step);
        losses.add(l);
        return l;
    }

    /** Runs body with the target weights (what sampling uses) in the student, then restores the online weights. */
    public void withTargetWeights(Runnable body) { SlabState.withWeights(student, target, backup, body); }

    /**
     * Writes a checkpoint folder atomically: the target weights as the model file, config.json by {@code configWriter},
     * objective.json (consistency_ddpm), and the state (param, target, adam_m, adam_v; config, teacher, data spec, losses).
     */
    public void save(Path folder, ConfigWriter configWriter, String teacherId, String dataSpec) throws IOException {
        outputDir = folder.toAbsolutePath().getParent();
        if (count > 0)  // a non-finite loss since the last read stops here, before anything is written (nothing is reset)
            TrainingDivergedException.checkScalar(lossSum.toArray()[0], "consistency loss (summed)", step - count + 1, step, outputDir, cfg.lr());
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("config", JSON.writeValueAsString(cfg));
        meta.put("teacher", teacherId == null ? "" : teacherId);
        meta.put("data_spec", dataSpec == null ? "" : dataSpec);
        meta.putAll(SlabState.lossMeta("loss", lossSteps, losses));
        SlabState.save(folder, student, FORMAT, step, target, slabs(), meta, tmp -> {
            if (configWriter != null) configWriter.write(tmp);
            objective().write(tmp);
        }, cfg.lr());
    }

    private Map<String, Tensor> slabs() {
        Map<String, Tensor> s = new LinkedHashMap<>();
        s.put("param", student.parameters());
        s.put("target", target);
        s.put("adam_m", m);
        s.put("adam_v", v);
        return s;
    }

    /** The stored metadata of a distillation checkpoint (config, teacher, data_spec, ...). */
    public static Map<String, String> metadata(Path folder) throws IOException { return SlabState.metadata(folder, FORMAT); }

    public static DistillConfig readConfig(Path folder) throws IOException {
        try {
            return JSON.readValue(metadata(folder).get("config"), DistillConfig.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException | IllegalArgumentException e) {
            throw new IOException(folder + ": the stored distillation config is invalid: " + e.getMessage(), e);
        }
    }

    /** Restores slabs, step and loss history from a checkpoint written by {@link #save}: training continues exactly. */
    public void load(Path folder) throws IOException {
        Map<String, String> meta = SlabState.load(folder, FORMAT, student, slabs(), cfg.steps());
        step = Integer.parseInt(meta.get("step"));
        SlabState.readLoss(meta, "loss", lossSteps, losses, folder);
        Elementwise.fill(lossSum, 0f);
        count = 0;
    }

    @Override
    public void close() { ws.close(); }
}
