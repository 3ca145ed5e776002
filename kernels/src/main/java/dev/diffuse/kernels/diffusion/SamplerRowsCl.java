package dev.diffuse.kernels.diffusion;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.RowNoise;
import dev.diffuse.runtime.Tensor;

/**
 * OpenCL launcher for sampler_rows.cl: the fused sampler updates with a noise key per row ({@link RowNoise}), one
 * work-item per element, work-group {@value #WG}.
 */
final class SamplerRowsCl {
    static final String SRC = "dev/diffuse/kernels/sampler_rows.cl";
    static final int WG = 256;

    private SamplerRowsCl() {}

    static void step(ClDevice c, Tensor out, Tensor x, Tensor m, Tensor m2, float a, float b, float b2, float cz, RowNoise keys, long stream) {
        long n = out.numel();
        c.kernel(SRC, "sampler_step_rows").launch1d(n, WG, out, x, m, m2 != null ? m2 : m, a, b, b2, cz,
                m2 != null ? 1 : 0, n, keys.rowLength(n), keys.table(c), stream);
    }

    static void stepClipX0(ClDevice c, Tensor out, Tensor x, Tensor m, float[] f, RowNoise keys, long stream) {
        long n = out.numel();
        c.kernel(SRC, "sampler_step_clip_x0_rows").launch1d(n, WG, out, x, m, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7],
                n, keys.rowLength(n), keys.table(c), stream);
    }

    static void combine(ClDevice c, Tensor out, Tensor aux, Tensor x, Tensor[] m, float a, float[] b, float p, float q,
                        float cz, RowNoise keys, long stream) {
        Tensor[] ms = new Tensor[SamplerCombine.MAX_TERMS];
        for (int k = 0; k < ms.length; k++) ms[k] = k < m.length ? m[k] : x;
        long n = out.numel();
        c.kernel(SRC, "sampler_combine_rows").launch1d(n, WG, out, aux != null ? aux : out, x, ms[0], ms[1], ms[2], ms[3],
                m.length, a, b[0], b[1], b[2], b[3], cz, p, q, aux != null ? 1 : 0, n, keys.rowLength(n), keys.table(c), stream);
    }
}
