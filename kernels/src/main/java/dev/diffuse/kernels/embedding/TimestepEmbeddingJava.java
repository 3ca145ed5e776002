package dev.diffuse.kernels.embedding;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/** Java reference for {@link TimestepEmbedding}: the §3.2 float32 recipe, one row per batch item. */
final class TimestepEmbeddingJava {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private TimestepEmbeddingJava() {}

    static void sinusoidal(JavaDevice d, Tensor out, Tensor timesteps, boolean flip, float negLog, float denom, float scale) {
        int dim = out.dim(1), half = dim / 2;
        MemorySegment os = out.segment(), ts = timesteps.segment();
        d.parallelFor(out.dim(0), b -> {
            float t = ts.getAtIndex(F, b);
            long row = (long) b * dim;
            for (int k = 0; k < half; k++) {
                float e = (negLog * k) / denom;
                float freq = (float) Math.exp(e);
                float arg = (t * freq) * scale;
                float s = (float) Math.sin(arg), c = (float) Math.cos(arg);
                os.setAtIndex(F, row + k, flip ? c : s);
                os.setAtIndex(F, row + half + k, flip ? s : c);
            }
            if (dim % 2 == 1) os.setAtIndex(F, row + dim - 1, 0f);
        });
    }
}
