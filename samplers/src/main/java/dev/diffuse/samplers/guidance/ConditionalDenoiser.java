package dev.diffuse.samplers.guidance;

import dev.diffuse.runtime.Tensor;
import dev.diffuse.samplers.Denoiser;

/**
 * A class-conditional model: like {@link Denoiser}, but every row of x carries its own class label, and the label
 * {@link #NULL_LABEL} asks for the unconditional prediction (the "dropped" class of classifier-free guidance
 * training). A U-Net with a class embedding maps the null label to its extra "no class" row.
 */
public interface ConditionalDenoiser {
    /** The null (unconditional) label. */
    int NULL_LABEL = -1;

    Denoiser.Prediction prediction();

    /**
     * out (N, ...) = the prediction for each row of x under that row's label; labels (N) holds integer class ids as
     * floats on x's device (NULL_LABEL for unconditional rows). Enqueued with no host read-back.
     */
    void predict(Tensor out, Tensor x, Tensor labels, Denoiser.NoiseLevel level);

    /**
     * A plain {@link Denoiser} that predicts every row under its label in {@code labels} (class ids, or the model's own
     * "no class" id), uploaded once into {@code ws}; x must have {@code labels.length} rows.
     * <pre>{@code
     * Denoiser den = ConditionalDenoiser.labelled(modelDenoiser, ws, new int[]{0, 1, 2, 3});
     * }</pre>
     */
    static Denoiser labelled(ConditionalDenoiser cond, dev.diffuse.runtime.Workspace ws, int[] labels) {
        float[] f = new float[labels.length];
        for (int i = 0; i < f.length; i++) f[i] = labels[i];
        Tensor t = ws.tensor(labels.length);
        t.upload(f);
        return new Denoiser() {
            @Override public Denoiser.Prediction prediction() { return cond.prediction(); }

            @Override public void predict(Tensor out, Tensor x, Denoiser.NoiseLevel level) { cond.predict(out, x, t, level); }
        };
    }
}
