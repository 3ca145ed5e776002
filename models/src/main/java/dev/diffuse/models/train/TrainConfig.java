package dev.diffuse.models.train;

import dev.diffuse.kernels.optim.Optim;
import dev.diffuse.samplers.schedule.BetaSchedule;
import dev.diffuse.samplers.schedule.DiscreteSchedule;

/**
 * Hyper-parameters of a DDPM training run (serialised as JSON into every checkpoint).
 *
 * @param steps           optimizer steps in the whole run
 * @param batch           samples per step (at most the model's maxBatch)
 * @param lr              peak learning rate (AdamW)
 * @param warmupSteps     linear warm-up: lr_t = lr * min(1, t / warmupSteps) for update t = 1, 2, ... (0: none)
 * @param weightDecay     AdamW decoupled weight decay
 * @param beta1           AdamW beta1
 * @param beta2           AdamW beta2
 * @param eps             AdamW epsilon
 * @param emaDecay        EMA decay per step (ema = decay ema + (1 - decay) params); 0 makes EMA = params
 * @param gradClip        max global L2 norm of the gradient (clip_grad_norm_), 0 or infinity for none
 * @param seed            key of every random draw (batch indices, timesteps, noise)
 * @param logEvery        read the mean loss back every this many steps
 * @param sampleEvery     ask the listener for samples every this many steps (0: never)
 * @param checkpointEvery save a checkpoint every this many steps (0: only at the end, if an output folder is set)
 * @param betaSchedule    diffusers name: linear, scaled_linear, squaredcos_cap_v2
 * @param trainTimesteps  number of discrete timesteps N (t uniform in 0..N-1)
 * @param betaStart       first beta
 * @param betaEnd         last beta
 * @param objective       what the network regresses: {@link Objective#EPSILON} (DDPM, the default) or {@link Objective#FLOW};
 *                        null (a checkpoint written before this field existed) reads as EPSILON
 * @param labelDropout    probability in [0, 1) that a sample's class label is replaced by the "no class" id (the model's
 *                        last class-embedding row) so that classifier-free guidance can run, e.g. 0.1; 0 (and absent in
 *                        checkpoints written before this field existed): labels are never dropped
 */
public record TrainConfig(int steps, int batch, double lr, int warmupSteps, double weightDecay, double beta1, double beta2,
                          double eps, double emaDecay, double gradClip, long seed, int logEvery, int sampleEvery,
                          int checkpointEvery, String betaSchedule, int trainTimesteps, double betaStart, double betaEnd,
                          Objective objective, double labelDropout) {
    /**
     * EPSILON: DDPM epsilon prediction on the discrete schedule (unchanged behaviour). FLOW: flow matching on the linear
     * path x_t = (1 - t) eps + t x0, t ~ U(0, 1), velocity target x0 - eps; the network sees timestep
     * {@link #FLOW_TIME_SCALE} * t (the beta-schedule fields are then unused).
     */
    public enum Objective { EPSILON, FLOW }

    /** A FLOW-trained network is conditioned on timestep 1000 t (t = 0 noise, t = 1 data), the range of DDPM indices. */
    public static final float FLOW_TIME_SCALE = 1000f;

    public TrainConfig {
        if (objective == null) objective = Objective.EPSILON;
        StringBuilder bad = new StringBuilder();
        if (steps < 1) bad.append(" steps >= 1 (got ").append(steps).append(')');
        if (batch < 1) bad.append(" batch >= 1 (got ").append(batch).append(')');
        if (warmupSteps < 0) bad.append(" warmupSteps >= 0 (got ").append(warmupSteps).append(')');
        if (!(emaDecay >= 0 && emaDecay <= 1)) bad.append(" emaDecay in [0, 1] (got ").append(emaDecay).append(')');
        if (!(gradClip >= 0)) bad.append(" gradClip >= 0 (got ").append(gradClip).append(')');
        if (logEvery < 1) bad.append(" logEvery >= 1 (got ").append(logEvery).append(')');
        if (sampleEvery < 0 || checkpointEvery < 0) bad.append(" sampleEvery, checkpointEvery >= 0");
        if (trainTimesteps < 2) bad.append(" trainTimesteps >= 2 (got ").append(trainTimesteps).append(')');
        if (!(labelDropout >= 0 && labelDropout < 1)) bad.append(" labelDropout in [0, 1) (got ").append(labelDropout).append(')');
        if (!bad.isEmpty()) throw new IllegalArgumentException("training config: need" + bad);
        new Optim.AdamWConfig(lr, beta1, beta2, eps, weightDecay); // validates the optimizer values
        BetaSchedule.byName(betaSchedule);
    }

    /**
     * Defaults in the spirit of diffusers' train_unconditional.py: lr 1e-4, 500 warm-up steps, weight decay 1e-6,
     * betas (0.95, 0.999), eps 1e-8, EMA 0.9999, clip 1.0, linear betas 1e-4..0.02 over 1000 steps.
     */
    public static TrainConfig defaults(int steps, int batch) {
        return new TrainConfig(steps, batch, 1e-4, 500, 1e-6, 0.95, 0.999, 1e-8, 0.9999, 1.0, 0, 100, 0, 0,
                "linear", 1000, 1e-4, 0.02, Objective.EPSILON, 0);
    }

    public TrainConfig withSteps(int s) {
        return new TrainConfig(s, batch, lr, warmupSteps, weightDecay, beta1, beta2, eps, emaDecay, gradClip, seed, logEvery,
                sampleEvery, checkpointEvery, betaSchedule, trainTimesteps, betaStart, betaEnd, objective, labelDropout);
    }

    public TrainConfig withLr(double l, int warmup) {
        return new TrainConfig(steps, batch, l, warmup, weightDecay, beta1, beta2, eps, emaDecay, gradClip, seed, logEvery,
                sampleEvery, checkpointEvery, betaSchedule, trainTimesteps, betaStart, betaEnd, objective, labelDropout);
    }

    public TrainConfig withSeed(long s) {
        return new TrainConfig(steps, batch, lr, warmupSteps, weightDecay, beta1, beta2, eps, emaDecay, gradClip, s, logEvery,
                sampleEvery, checkpointEvery, betaSchedule, trainTimesteps, betaStart, betaEnd, objective, labelDropout);
    }

    public TrainConfig withEma(double decay) {
        return new TrainConfig(steps, batch, lr, warmupSteps, weightDecay, beta1, beta2, eps, decay, gradClip, seed, logEvery,
                sampleEvery, checkpointEvery, betaSchedule, trainTimesteps, betaStart, betaEnd, objective, labelDropout);
    }

    public TrainConfig withEvery(int log, int sample, int checkpoint) {
        return new TrainConfig(steps, batch, lr, warmupSteps, weightDecay, beta1, beta2, eps, emaDecay, gradClip, seed, log,
                sample, checkpoint, betaSchedule, trainTimesteps, betaStart, betaEnd, objective, labelDropout);
    }

    public TrainConfig withObjective(Objective o) {
        return new TrainConfig(steps, batch, lr, warmupSteps, weightDecay, beta1, beta2, eps, emaDecay, gradClip, seed, logEvery,
                sampleEvery, checkpointEvery, betaSchedule, trainTimesteps, betaStart, betaEnd, o, labelDropout);
    }

    public TrainConfig withLabelDropout(double p) {
        return new TrainConfig(steps, batch, lr, warmupSteps, weightDecay, beta1, beta2, eps, emaDecay, gradClip, seed, logEvery,
                sampleEvery, checkpointEvery, betaSchedule, trainTimesteps, betaStart, betaEnd, objective, p);
    }

    public DiscreteSchedule schedule() {
        return DiscreteSchedule.of(BetaSchedule.byName(betaSchedule), trainTimesteps, betaStart, betaEnd);
    }

    /** The learning rate of update {@code t} (1-based) after linear warm-up. */
    public double lrAt(int t) {
        return warmupSteps <= 0 ? lr : lr * Math.min(1.0, (double) t / warmupSteps);
    }

    public Optim.AdamWConfig adamw(int t) {
        return new Optim.AdamWConfig(lrAt(t), beta1, beta2, eps, weightDecay);
    }

    /** Max gradient norm as the kernel wants it: +infinity for no clipping. */
    public float maxNorm() {
        return gradClip > 0 && Double.isFinite(gradClip) ? (float) gradClip : Float.POSITIVE_INFINITY;
    }
}
