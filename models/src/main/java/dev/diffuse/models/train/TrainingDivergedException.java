package dev.diffuse.models.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Training produced a NaN or an infinity (loss, gradient norm, or a weight slab about to be saved): training stops
 * before anything non-finite is written, and the message names the step, what was not finite, the last good
 * checkpoint and the way out. The trainers check the loss and the gradient norm on the steps where they read the loss
 * back anyway (every {@code logEvery} steps) and before every checkpoint, so the check adds no host read-back per step.
 */
public final class TrainingDivergedException extends IllegalStateException {
    private final int step;

    public TrainingDivergedException(String message, int step) {
        super(message);
        this.step = step;
    }

    /** The step at which the non-finite value was seen. */
    public int step() { return step; }

    /**
     * "training diverged at step S: WHAT. No checkpoint was written for it; the last good one is X. Lower the learning
     * rate (now LR) and continue from X with --resume --override --lr SMALLER, or start again."
     */
    public static TrainingDivergedException of(int step, String what, Path outputDir, double lr) {
        Path good = null;
        try {
            good = outputDir == null ? null : CheckpointFolders.latest(outputDir);
        } catch (IOException e) {
            // the message then says none is known
        }
        String where = good == null ? "there is no earlier checkpoint" : "the last good one is " + good;
        return new TrainingDivergedException(String.format(Locale.ROOT, "training diverged at step %d: %s. Nothing non-finite was saved; "
                + "%s. Lower the learning rate (now %s)%s, or check the data for NaN", step, what, where, shortNumber(lr),
                good == null ? " and start again" : " and continue with --resume --override --lr SMALLER"), step);
    }

    /**
     * Reads back the loss and gradient norm summed on the device over the last {@code count} steps (ending at
     * {@code step}) and returns the mean loss, after checking that both are finite ({@link #checkScalar}).
     */
    public static double checkedMean(dev.diffuse.runtime.Tensor lossSum, dev.diffuse.runtime.Tensor normSum, int count, int step,
                                     String lossName, Path outputDir, double lr) {
        if (count == 0) return Double.NaN;
        double mean = lossSum.toArray()[0] / (double) count;
        int from = step - count + 1;
        checkScalar(mean, lossName, from, step, outputDir, lr);
        checkScalar(normSum.toArray()[0], "gradient norm (summed)", from, step, outputDir, lr);
        return mean;
    }

    /** Throws {@link #of} when {@code value} (a mean loss or gradient norm read back) is not finite. */
    public static void checkScalar(double value, String name, int fromStep, int step, Path outputDir, double lr) {
        if (!Double.isFinite(value))
            throw of(step, String.format(Locale.ROOT, "the %s over steps %d..%d is %s", name, fromStep, step, value), outputDir, lr);
    }

    /** Throws {@link #of} when a host copy of a slab (weights, EMA, Adam moments) about to be saved holds a NaN or infinity. */
    public static void checkSlab(float[] slab, String name, int step, Path outputDir, double lr) {
        int bad = 0;
        for (float v : slab) if (!Float.isFinite(v)) bad++;
        if (bad > 0)
            throw of(step, String.format(Locale.ROOT, "%,d of the %,d values of the %s are NaN or infinite", bad, slab.length, name), outputDir, lr);
    }

    private static String shortNumber(double v) { return Double.toString(v).toLowerCase(Locale.ROOT); }
}
