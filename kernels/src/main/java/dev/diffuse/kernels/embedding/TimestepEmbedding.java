package dev.diffuse.kernels.embedding;

import dev.diffuse.kernels.Checks;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Sinusoidal timestep embedding exactly as diffusers {@code get_timestep_embedding(timesteps, embedding_dim,
 * flip_sin_to_cos, downscale_freq_shift, scale=1, max_period=10000)} (spec unet2d-diffusers.md §3.2):
 * <pre>
 *   half = dim / 2 (integer division)
 *   freq[k]  = exp(-ln(max_period) * k / (half - downscale_freq_shift)),  k = 0 .. half-1
 *   arg[b,k] = scale * t_b * freq[k]
 *   emb[b]   = [sin(arg[b, :]), cos(arg[b, :])]        flip_sin_to_cos: [cos(...), sin(...)]
 *   dim odd: one 0 appended
 * </pre>
 * with PyTorch's float32 rounding at each step (f32(-ln max_period) * k, / f32(half - shift), exp, t*freq, *scale),
 * and sin/cos evaluated on the rounded float argument. Timesteps are floats (diffusers calls
 * {@code timesteps.float()}; truncating Python floats to int is the caller's job). No backward: the input is
 * data, not a trained tensor. A UNet2DModel's {@code Timesteps(C0, flip_sin_to_cos, freq_shift)} passes
 * {@code downscaleFreqShift = freq_shift}.
 */
public final class TimestepEmbedding {
    public static final float MAX_PERIOD = 10000f;

    private TimestepEmbedding() {}

    /** out (B, dim) from timesteps (B), scale 1, max_period 10000. */
    public static void sinusoidal(Tensor out, Tensor timesteps, boolean flipSinToCos, float downscaleFreqShift) {
        sinusoidal(out, timesteps, flipSinToCos, downscaleFreqShift, 1f, MAX_PERIOD);
    }

    /** out (B, dim) from timesteps (B), all of get_timestep_embedding's arguments. */
    public static void sinusoidal(Tensor out, Tensor timesteps, boolean flipSinToCos, float downscaleFreqShift,
                                  float scale, float maxPeriod) {
        Checks.rank("timestepEmbedding", "timesteps", timesteps, 1);
        Checks.rank("timestepEmbedding", "out", out, 2);
        int b = timesteps.dim(0), dim = out.dim(1);
        Checks.shape("timestepEmbedding", "out", out, b, dim);
        int half = dim / 2;
        if (half > 0 && half - downscaleFreqShift == 0f)
            throw new IllegalArgumentException("timestepEmbedding: half = dim/2 = " + half + " equals downscale_freq_shift = "
                    + downscaleFreqShift + ", which divides by zero; use freq_shift 0 or 1 with dim >= 4");
        if (!(maxPeriod > 0f)) throw new IllegalArgumentException("timestepEmbedding: max_period must be > 0, got " + maxPeriod);
        float negLog = (float) -Math.log(maxPeriod), denom = (float) (half - downscaleFreqShift);
        switch (Checks.sameDevice("timestepEmbedding", out, timesteps)) {
            case JavaDevice j -> TimestepEmbeddingJava.sinusoidal(j, out, timesteps, flipSinToCos, negLog, denom, scale);
            case ClDevice c -> TimestepEmbeddingCl.sinusoidal(c, out, timesteps, flipSinToCos, negLog, denom, scale);
        }
    }

    /** Bytes one call moves: reads B timesteps, writes B*dim floats. */
    public static long bytesMoved(int batch, int dim) {
        return 4L * batch + 4L * batch * dim;
    }
}
