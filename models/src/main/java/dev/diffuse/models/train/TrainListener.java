package dev.diffuse.models.train;

import java.nio.file.Path;

/**
 * Progress of a {@link Trainer} run, called on the training thread. All methods have empty defaults.
 */
public interface TrainListener {
    /**
     * After every step. {@code loss} is the mean loss over the last {@code logEvery} steps on steps where it was read
     * back from the device, else NaN; {@code stepsPerSecond} is measured over the run so far (excluding set-up).
     */
    default void onStep(int step, int totalSteps, double loss, double stepsPerSecond) {}

    /** Every {@code logEvery} steps (and the last), with the mean loss since the previous read. */
    default void onLoss(int step, double loss) {}

    /**
     * Every {@code sampleEvery} steps: sample with {@code trainer.withEmaWeights(...)} (the model then holds the EMA
     * weights; training weights are restored afterwards) and e.g. write an {@code ImageGrid}.
     */
    default void onSampleDue(int step, Trainer trainer) {}

    /** After a checkpoint folder was written (complete and renamed into place). */
    default void onCheckpoint(int step, Path folder) {}
}
