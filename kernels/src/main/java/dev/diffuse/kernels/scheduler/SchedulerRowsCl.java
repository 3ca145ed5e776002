package dev.diffuse.kernels.scheduler;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.RowNoise;
import dev.diffuse.runtime.Tensor;

/** OpenCL launcher for scheduler_rows.cl: diffusers' step with a noise key per sample ({@link RowNoise}), one work-item per element. */
final class SchedulerRowsCl {
    static final String SRC = "dev/diffuse/kernels/scheduler_rows.cl";
    static final int WG = 256;

    private SchedulerRowsCl() {}

    static void step(ClDevice c, Tensor out, Tensor x0Out, Tensor x, Tensor m, Tensor thr, SchedulerStep.Coefficients k,
                     int per, int stride, RowNoise keys, long stream) {
        int mode = switch (k.clip()) { case NONE -> 0; case CLIP -> 1; case THRESHOLD -> 2; };
        int var = switch (k.variance()) { case FIXED -> 0; case LEARNED -> 1; case LEARNED_RANGE -> 2; };
        c.kernel(SRC, "scheduler_step_rows").launch1d(out.numel(), WG, out, x0Out != null ? x0Out : out, x, m,
                thr != null ? thr : x, (float) k.p(), (float) k.q(), (float) k.lo(), (float) k.hi(), (float) k.a(),
                (float) k.b(), (float) k.d(), (float) k.c(), (float) k.lnBeta(), (float) k.lnVar(), mode, var,
                k.noisy() ? 1 : 0, x0Out != null ? 1 : 0, per, stride, out.numel(), keys.table(c), stream);
    }
}
