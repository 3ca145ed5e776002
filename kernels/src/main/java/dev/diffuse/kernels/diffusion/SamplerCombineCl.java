package dev.diffuse.kernels.diffusion;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Tensor;

/** OpenCL launcher for sampler_combine.cl: one work-item per 4 elements (one Philox block), work-group {@value #WG}. */
final class SamplerCombineCl {
    static final String SRC = "dev/diffuse/kernels/sampler_combine.cl";
    static final int WG = 256;

    private SamplerCombineCl() {}

    private static long items(Tensor t) { return (t.numel() + 3) / 4; }

    static void combine(ClDevice c, Tensor out, Tensor aux, Tensor x, Tensor[] m, float a, float[] b, float p, float q,
                        float cz, long seed, long stream) {
        // Unused buffer slots get x: the kernel reads only the first k and writes aux only when has_aux.
        Tensor[] ms = new Tensor[SamplerCombine.MAX_TERMS];
        for (int k = 0; k < ms.length; k++) ms[k] = k < m.length ? m[k] : x;
        c.kernel(SRC, "sampler_combine").launch1d(items(out), WG, out, aux != null ? aux : out, x, ms[0], ms[1], ms[2], ms[3],
                m.length, a, b[0], b[1], b[2], b[3], cz, p, q, aux != null ? 1 : 0, out.numel(), seed, stream);
    }

    static void langevin(ClDevice c, Tensor out, Tensor x, Tensor g, Tensor z, Tensor ssZ, Tensor ssG,
                         float gx, float gg, float gScale2, float twoAlphaR2) {
        c.kernel(SRC, "langevin_correct").launch1d(items(out), WG, out, x, g, z, ssZ, ssG, gx, gg, gScale2, twoAlphaR2, out.numel());
    }
}
