package dev.diffuse.samplers.pipeline;

import dev.diffuse.kernels.diffusion.SamplerCombine;
import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.Tensor;

/**
 * A linear combination c_0 x + c_1 m_1 + ... + c_4 m_4 of the state and up to four model outputs: {@link Lin}
 * widened for RK4, so a four-stage method still writes each stage state once and ends in one fused pass.
 */
record Terms(double[] c) {
    static final int SIZE = SamplerCombine.MAX_TERMS + 1;

    static Terms x() { return unit(0, 1); }

    /** coef * slot (0 = x, k = m_k). */
    static Terms unit(int slot, double coef) {
        double[] c = new double[SIZE];
        c[slot] = coef;
        return new Terms(c);
    }

    Terms plus(Terms o) {
        double[] r = new double[SIZE];
        for (int i = 0; i < SIZE; i++) r[i] = c[i] + o.c[i];
        return new Terms(r);
    }

    Terms times(double k) {
        double[] r = new double[SIZE];
        for (int i = 0; i < SIZE; i++) r[i] = k * c[i];
        return new Terms(r);
    }

    /** out = this over (x, m[0..]) + std z(noise, stream); only the m_k up to the last nonzero coefficient are read. */
    void apply(Tensor out, Tensor x, Tensor[] m, double std, Noise noise, long stream) {
        int k = 0;
        for (int i = 1; i < SIZE; i++) if (c[i] != 0) k = i;
        Tensor[] used = new Tensor[k];
        double[] b = new double[k];
        for (int i = 0; i < k; i++) {
            used[i] = m[i];
            b[i] = c[i + 1];
        }
        SamplerCombine.combine(out, null, x, used, c[0], b, 0, 0, std, noise, stream);
    }
}
