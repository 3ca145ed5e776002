package dev.diffuse.kernels.diffusion;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Tensor;

/** OpenCL launcher for diffusion.cl: one work-item per 4 elements (one Philox block), work-group {@value #WG}. */
final class DiffusionCl {
    static final String SRC = "dev/diffuse/kernels/diffusion.cl";
    static final int WG = 256;

    private DiffusionCl() {}

    private static long items(Tensor t) { return (t.numel() + 3) / 4; }

    static void qSample(ClDevice c, Tensor out, Tensor epsOut, Tensor x0, Tensor eps, Tensor a, Tensor s,
                        int perSample, long seed, long stream, boolean drawn) {
        // Unused buffer arguments still need a valid cl_mem: pass x0, which the kernel never writes through them.
        c.kernel(SRC, "q_sample").launch1d(items(out), WG, out, epsOut != null ? epsOut : out, x0, eps != null ? eps : x0,
                a, s, perSample, out.numel(), seed, stream, drawn ? 1 : 0, epsOut != null ? 1 : 0);
    }

    static void step(ClDevice c, Tensor out, Tensor x, Tensor m, Tensor m2, float a, float b, float b2, float cz, long seed, long stream) {
        c.kernel(SRC, "sampler_step").launch1d(items(out), WG, out, x, m, m2 != null ? m2 : m, a, b, b2, cz,
                m2 != null ? 1 : 0, out.numel(), seed, stream);
    }

    static void stepClipX0(ClDevice c, Tensor out, Tensor x, Tensor m, float[] f, long seed, long stream) {
        c.kernel(SRC, "sampler_step_clip_x0").launch1d(items(out), WG, out, x, m, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7],
                out.numel(), seed, stream);
    }
}
