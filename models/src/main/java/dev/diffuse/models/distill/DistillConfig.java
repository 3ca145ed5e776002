package dev.diffuse.models.distill;

import dev.diffuse.kernels.optim.Optim;

/**
 * Hyper-parameters of consistency distillation from an epsilon teacher (serialised into every checkpoint).
 *
 * @param steps        optimizer steps
 * @param batch        samples per step
 * @param lr           Adam learning rate after linear warm-up (the student starts from the teacher's weights: small)
 * @param warmupSteps  linear warm-up steps
 * @param teacherSteps N: the grid t_n = n 1000/N and the teacher's DDIM steps between adjacent levels (25: the teacher's
 *                     own DDIM-25 trajectory, 960, 920, ..., 40, 0)
 * @param topTimestep  the highest level (a multiple of 1000/N, at most (N - 1) 1000/N), where sampling starts from
 *                     N(0, I): 960 for the whole DDIM-25 grid; lower levels trade the prior's fit (x_t still holds
 *                     sqrt(ab_t) x0) for a better conditioned x0 = (x - sqrt(1 - ab) eps) / sqrt(ab) (1/sqrt(ab) = 104
 *                     at 960, 18 at 760; docs/fast-sampling.md)
 * @param targetDecay  mu: target = mu target + (1 - mu) theta after every step (LCM: 0.95)
 * @param sigmaData    sigma_data of c_skip and c_out (0.5 for images in [-1, 1])
 * @param clipTeacher  clip the teacher's x0 to [-1, 1] in its DDIM steps (as its DDIM sampler does for images)
 * @param gradClip     max global gradient norm (0: none)
 * @param seed         key of every draw (batch rows, levels, noise)
 * @param logEvery     read the loss back every this many steps
 */
public record DistillConfig(int steps, int batch, double lr, int warmupSteps, int teacherSteps, int topTimestep, double targetDecay, double sigmaData,
                            boolean clipTeacher, double gradClip, long seed, int logEvery) {
    public DistillConfig {
        StringBuilder bad = new StringBuilder();
        if (steps < 1 || batch < 1 || logEvery < 1 || warmupSteps < 0) bad.append(" steps, batch, logEvery >= 1 and warmupSteps >= 0;");
        if (teacherSteps < 2 || teacherSteps > 500 || 1000 % teacherSteps != 0)
            bad.append(" teacherSteps a divisor of 1000 in 2..500 (got ").append(teacherSteps).append(");");
        else if (topTimestep < 1000 / teacherSteps || topTimestep % (1000 / teacherSteps) != 0 || topTimestep > (teacherSteps - 1) * (1000 / teacherSteps))
            bad.append(" topTimestep a multiple of ").append(1000 / teacherSteps).append(" in ").append(1000 / teacherSteps).append("..")
                    .append((teacherSteps - 1) * (1000 / teacherSteps)).append(" (got ").append(topTimestep).append(");");
        if (!(targetDecay >= 0 && targetDecay < 1)) bad.append(" targetDecay in [0, 1) (got ").append(targetDecay).append(");");
        if (!(sigmaData > 0)) bad.append(" sigmaData > 0;");
        if (!(gradClip >= 0)) bad.append(" gradClip >= 0;");
        if (!bad.isEmpty()) throw new IllegalArgumentException("distillation config: need" + bad);
        new Optim.AdamWConfig(lr, 0.9, 0.999, 1e-8, 0);
    }

    /** LCM-style defaults for a small image model: grid of 25 up to 760, target decay 0.95, sigma_data 0.5, teacher x0 clipped, clip 1. */
    public static DistillConfig defaults(int steps, int batch, double lr, long seed) {
        return new DistillConfig(steps, batch, lr, 50, 25, 760, 0.95, DdpmConsistency.SIGMA_DATA, true, 1.0, seed, 25);
    }

    public DistillConfig withSteps(int s) {
        return new DistillConfig(s, batch, lr, warmupSteps, teacherSteps, topTimestep, targetDecay, sigmaData, clipTeacher, gradClip, seed, logEvery);
    }

    /** Grid spacing in DDPM timesteps (1000 / N). */
    public int stride() { return 1000 / teacherSteps; }

    /** Levels above the boundary: topTimestep / stride. */
    public int levels() { return topTimestep / stride(); }

    public Optim.AdamWConfig adam(int k) {
        double l = warmupSteps == 0 ? lr : lr * Math.min(1.0, (double) k / warmupSteps);
        return new Optim.AdamWConfig(l, 0.9, 0.999, 1e-8, 0);
    }
}
