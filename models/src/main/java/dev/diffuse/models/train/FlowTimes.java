package dev.diffuse.models.train;

import java.lang.foreign.ValueLayout;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Philox;
import dev.diffuse.runtime.Tensor;

/**
 * Per-sample flow-matching times for {@link Trainer} with {@link TrainConfig.Objective#FLOW}: t_b = uniform number b of
 * (seed, stream), a 24-bit value in (0, 1); meta row 0 = scale t_b (network timestep), row 1 = t_b (path time).
 * The same numbers on every device (flow_times.cl reproduces this loop), so runs stay a function of (seed, step).
 */
final class FlowTimes {
    private static final String SRC = "dev/diffuse/models/train/flow_times.cl";

    private FlowTimes() {}

    /** meta is the trainer's (4, stride) block, stride >= batch; rows 2 and 3 are left as they are. */
    static void draw(Tensor meta, int batch, long seed, long stream, float scale) {
        long stride = meta.numel() / 4;
        if (meta.numel() % 4 != 0 || stride < batch)
            throw new IllegalArgumentException("flow times: meta " + meta + " must be a (4, stride) block with stride >= " + batch);
        switch (meta.device()) {
            case JavaDevice j -> {
                var s = meta.segment();
                for (int b = 0; b < batch; b++) {
                    float u = Philox.uniform(seed, stream, b);
                    s.setAtIndex(ValueLayout.JAVA_FLOAT, b, scale * u);
                    s.setAtIndex(ValueLayout.JAVA_FLOAT, stride + b, u);
                }
            }
            case ClDevice c -> c.kernel(SRC, "flow_times").launch1d(batch, 64, meta, batch, (int) stride, seed, stream, scale);
        }
    }

    /** Host copy of the times (for tests and documentation). */
    static float[] times(int batch, long seed, long stream) {
        float[] t = new float[batch];
        for (int b = 0; b < batch; b++) t[b] = Philox.uniform(seed, stream, b);
        return t;
    }
}
