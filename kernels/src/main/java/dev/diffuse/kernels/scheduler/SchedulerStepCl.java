package dev.diffuse.kernels.scheduler;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Tensor;

/** OpenCL launcher for scheduler.cl: the step one work-item per 4 elements, the quantile one work-group per sample. */
final class SchedulerStepCl {
    static final String SRC = "dev/diffuse/kernels/scheduler.cl";
    static final int WG = 256, QWG = 256;

    private SchedulerStepCl() {}

    static void step(ClDevice c, Tensor out, Tensor x0Out, Tensor x, Tensor m, Tensor thr, SchedulerStep.Coefficients k,
                     int per, int stride, long seed, long stream) {
        int mode = switch (k.clip()) { case NONE -> 0; case CLIP -> 1; case THRESHOLD -> 2; };
        int var = switch (k.variance()) { case FIXED -> 0; case LEARNED -> 1; case LEARNED_RANGE -> 2; };
        // Unused buffers still need a valid cl_mem; the kernel never touches them.
        c.kernel(SRC, "scheduler_step").launch1d((out.numel() + 3) / 4, WG, out, x0Out != null ? x0Out : out, x, m,
                thr != null ? thr : x, (float) k.p(), (float) k.q(), (float) k.lo(), (float) k.hi(), (float) k.a(),
                (float) k.b(), (float) k.d(), (float) k.c(), (float) k.lnBeta(), (float) k.lnVar(), mode, var,
                k.noisy() ? 1 : 0, x0Out != null ? 1 : 0, per, stride, out.numel(), seed, stream);
    }

    static void absQuantile(ClDevice c, Tensor thr, Tensor x, Tensor m, float p, float q, int per, int stride,
                            SchedulerStep.Rank r, float smax) {
        int batch = x.dim(0);
        c.kernel(SRC, "abs_quantile", java.util.Map.of("QWG", QWG)).launch(new long[]{(long) batch * QWG}, new long[]{QWG},
                thr, x, m, p, q, per, stride, r.lo(), r.hi(), r.weight(), smax);
    }
}
