package dev.diffuse.kernels.guidance;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Tensor;

/** OpenCL launcher for guidance.cl: combine one work-item per element, rescale one work-group of RWG per sample. */
final class GuidanceCl {
    static final String SRC = "dev/diffuse/kernels/guidance.cl";
    static final int WG = 256, RWG = 256;

    private GuidanceCl() {}

    static void combine(ClDevice c, Tensor out, Tensor m, float w) {
        c.kernel(SRC, "cfg_combine").launch1d(out.numel(), WG, out, m, w, out.numel());
    }

    static void rescale(ClDevice c, Tensor out, Tensor m, float w, float phi, int n, int batch) {
        c.kernel(SRC, "cfg_rescale", java.util.Map.of("RWG", RWG)).launch(new long[]{(long) batch * RWG}, new long[]{RWG},
                out, m, w, phi, n, batch);
    }
}
