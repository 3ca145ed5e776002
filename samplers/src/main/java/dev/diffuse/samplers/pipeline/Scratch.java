package dev.diffuse.samplers.pipeline;

import dev.diffuse.kernels.diffusion.SamplerStep;
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

    /** out = lin.x * x + lin.m1 * m1 + lin.m2 * m2 + c * z(seed, stream). */
    void update(Tensor out, Tensor x, Lin lin, double c, long seed, long stream) {
        if (lin.m2() != 0) SamplerStep.step(out, x, m1, m2, lin.x(), lin.m1(), lin.m2(), c, seed, stream);
        else SamplerStep.step(out, x, m1, lin.x(), lin.m1(), c, seed, stream);
    }

    /** Stream of the noise of step k (stream 0 is the prior). */
    static long stream(int step) { return step + 1L; }
}
