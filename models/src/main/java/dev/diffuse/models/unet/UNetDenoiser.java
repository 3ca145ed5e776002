package dev.diffuse.models.unet;

import dev.diffuse.kernels.elementwise.Elementwise;
import dev.diffuse.models.train.Chunks;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.samplers.Denoiser;

/**
 * A {@link UNet2DModel} as a sampler's {@link Denoiser}: predicts epsilon (diffusers' default prediction_type),
 * conditioned on {@code level.timestep()} (the DDPM index 0..999) for the whole batch and, for a class-conditional
 * model, on fixed class labels. Any batch size: rows are run in chunks of the model's maxBatch (device-side copies,
 * no host read-back: the model copies its inputs, so unaligned chunk views are fine). x may be (N, C, H, W) or any shape with N * C * H * W elements.
 */
public final class UNetDenoiser implements Denoiser, AutoCloseable {
    private final UNet2DModel model;
    private final Tensor t, labels;
    private final int c, h, w, oc;

    /** @param classLabels (N) class ids as floats for a class-conditional model (N = the batch predict gets), else null */
    public UNetDenoiser(UNet2DModel model, Tensor classLabels) {
        this.model = model;
        int[] s = model.sampleShape();
        c = s[0];
        h = s[1];
        w = s[2];
        oc = model.config().outChannels();
        if (oc != c)
            throw new IllegalArgumentException("UNetDenoiser: out_channels " + oc + " != in_channels " + c
                    + "; an epsilon predictor must output the sample's shape (learned-variance models are not supported)");
        if ((model.config().numClassEmbeds() != null) != (classLabels != null))
            throw new IllegalArgumentException(classLabels == null
                    ? "UNetDenoiser: the model is class-conditional (num_class_embeds = " + model.config().numClassEmbeds() + "): give class labels"
                    : "UNetDenoiser: class labels given but the model has no class embedding");
        this.labels = classLabels;
        this.t = Tensor.allocate(model.device(), model.maxBatch());
    }

    public UNetDenoiser(UNet2DModel model) { this(model, null); }

    @Override public Prediction prediction() { return Prediction.EPSILON; }

    @Override
    public void predict(Tensor out, Tensor x, NoiseLevel level) {
        long per = (long) c * h * w;
        if (x.numel() % per != 0 || x.rank() < 1 || x.numel() / per != x.dim(0))
            throw new IllegalArgumentException("UNetDenoiser: x " + x + " must be (N, " + c + ", " + h + ", " + w + ")");
        if (out.numel() != x.numel()) throw new IllegalArgumentException("UNetDenoiser: out " + out + " must match x " + x);
        int n = x.dim(0);
        if (labels != null && labels.numel() != n)
            throw new IllegalArgumentException("UNetDenoiser: " + labels.numel() + " class labels for a batch of " + n);
        Elementwise.fill(t, (float) level.timestep());
        forwardChunked(model, out, x, t, labels, true);
    }

    /**
     * out = model(x, t, labels) for any batch N, in chunks of the model's maxBatch. {@code t} holds N timesteps, or
     * maxBatch copies of one timestep when {@code sameT}.
     */
    static void forwardChunked(UNet2DModel model, Tensor out, Tensor x, Tensor t, Tensor labels, boolean sameT) {
        int[] s = model.sampleShape();
        int[] outRow = {model.config().outChannels(), s[1], s[2]};
        try (Chunks chunks = new Chunks(model.device(), model.maxBatch(), Tensor.numel(s), Tensor.numel(outRow))) {
            chunks.run(out, x, sameT ? null : t, labels, s, outRow,
                    (o, xin, tc, lc, b) -> model.forward(o, xin, sameT ? t.view(0, b) : tc, lc));
        }
    }

    @Override
    public void close() { t.close(); }
}
