package dev.diffuse.samplers.pipeline;

import dev.diffuse.kernels.diffusion.SamplerStep;
import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;

/** The per-run buffers of a sampler (allocated once before the loop) and the one fused update they feed. */
final class Scratch {
    final Tensor m1, m2, xt;

    Scratch(Workspace ws, Tensor x, boolean needsSecondStage) {
        m1 = ws.like(x);
        m2 = needsSecondStage ? ws.like(x) : null;
        xt = needsSecondStage ? ws.like(x) : null;
    }

    /** out = lin.x * x + lin.m1 * m1 + lin.m2 * m2 + c * z(noise, stream). */
    void update(Tensor out, Tensor x, Lin lin, double c, Noise noise, long stream) {
        SamplerStep.step(out, x, m1, lin.m2() != 0 ? m2 : null, lin.x(), lin.m1(), lin.m2(), c, noise, stream);
    }

    /** Stream of the noise of step k (stream 0 is the prior). */
    static long stream(int step) { return step + 1L; }
}
