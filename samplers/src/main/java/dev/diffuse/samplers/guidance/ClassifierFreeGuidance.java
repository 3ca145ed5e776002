package dev.diffuse.samplers.guidance;

import java.util.Arrays;

import dev.diffuse.kernels.guidance.Guidance;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;

/**
 * Classifier-free guidance (Ho and Salimans 2022) as a {@link Denoiser} any sampler can run: for rows x with class
 * labels c (fixed per row for the whole run),
 * <pre>
 *   m = (1 + w) m(x, c) - w m(x, null)          (diffusers: guidance_scale = 1 + w; w = 0 is the conditional model)
 * </pre>
 * and with rescale phi > 0 (Lin et al. 2024, diffusers' guidance_rescale) m <- (phi std(m_c) / std(m) + 1 - phi) m
 * per sample. The two evaluations are ONE forward over a 2B batch: x copied twice (device copies) with labels
 * [c_1..c_B, null x B], then one fused kernel combines. Since every parameterisation is affine in the output with the
 * same x for both halves, guiding EPSILON, X0, V or VELOCITY outputs gives the same guided epsilon; the rescale is
 * applied to whatever the model predicts, as diffusers does. Scratch (2B rows twice) is allocated on first use for
 * the batch size and freed by close(), or taken from a caller's {@link Workspace} (counted against its budget).
 * A network whose "unconditional" input is a class of its own (a class-embedding row trained with dropped labels)
 * takes that class id as the null label.
 */
public final class ClassifierFreeGuidance implements Denoiser, AutoCloseable {
    private final ConditionalDenoiser model;
    private final Device device;
    private final int[] labels;
    private final double w, phi;
    private final Tensor labels2;
    private final Workspace scratch;
    private Tensor x2, m2;

    /**
     * @param labels one class per row (>= 0) of every x this denoiser is called with
     * @param w      guidance weight (>= 0), e.g. 3
     * @param phi    rescale blend in [0, 1], 0 = plain CFG, e.g. 0.7
     */
    public ClassifierFreeGuidance(ConditionalDenoiser model, Device device, int[] labels, double w, double phi) {
        this(model, device, null, labels, w, phi, ConditionalDenoiser.NULL_LABEL);
    }

    /**
     * Guidance with its scratch (x and the output for 2B rows, allocated on first use) in {@code ws}, and the
     * unconditional half labelled {@code nullLabel}: {@link ConditionalDenoiser#NULL_LABEL} for a denoiser that
     * understands it, or the id of a network's "no class" embedding row.
     */
    public ClassifierFreeGuidance(ConditionalDenoiser model, Workspace ws, int[] labels, double w, double phi, int nullLabel) {
        this(model, ws.device(), ws, labels, w, phi, nullLabel);
    }

    private ClassifierFreeGuidance(ConditionalDenoiser model, Device device, Workspace ws, int[] labels, double w, double phi, int nullLabel) {
        if (labels.length == 0) throw new IllegalArgumentException("cfg: need one label per row, got none");
        for (int l : labels)
            if (l < 0 || l == nullLabel) throw new IllegalArgumentException("cfg: label " + l + " is not a class; rows to guide need class ids >= 0 "
                    + "(the null label " + nullLabel + " is added for the unconditional half)");
        if (model instanceof ConditionalMixtureDenoiser g) for (int l : labels) g.checkLabel(l);
        if (!(w >= 0) || !Double.isFinite(w)) throw new IllegalArgumentException("cfg: guidance weight w must be finite and >= 0, got " + w);
        if (!(phi >= 0 && phi <= 1)) throw new IllegalArgumentException("cfg: rescale phi must be in [0, 1], got " + phi);
        this.model = model;
        this.device = device;
        this.scratch = ws;
        this.labels = labels.clone();
        this.w = w;
        this.phi = phi;
        float[] l2 = new float[2 * labels.length];
        Arrays.fill(l2, nullLabel);
        for (int i = 0; i < labels.length; i++) l2[i] = labels[i];
        if (ws == null) {
            this.labels2 = Tensor.of(device, l2, l2.length);
        } else {
            this.labels2 = ws.tensor(l2.length);
            labels2.upload(l2);
        }
    }

    @Override public Prediction prediction() { return model.prediction(); }

    public double weight() { return w; }

    public double rescale() { return phi; }

    @Override
    public void predict(Tensor out, Tensor x, NoiseLevel level) {
        int b = labels.length;
        if (x.rank() < 1 || x.dim(0) != b)
            throw new IllegalArgumentException("cfg: x must have one row per label (" + b + " rows), got " + x);
        if (x.device() != device) throw new IllegalArgumentException("cfg: x is on " + x.device().id() + ", the guidance on " + device.id());
        int[] shape = x.shape();
        shape[0] = 2 * b;
        if (x2 == null || !Arrays.equals(x2.shape(), shape)) {
            close2();
            x2 = scratch != null ? scratch.tensor(shape) : Tensor.allocate(device, shape);
            m2 = scratch != null ? scratch.tensor(shape) : Tensor.allocate(device, shape);
        }
        int[] half = x.shape();
        x2.view(0, half).copyFrom(x);
        x2.view(x.numel(), half).copyFrom(x);
        model.predict(m2, x2, labels2, level);
        if (phi == 0) Guidance.combine(out, m2, w);
        else Guidance.rescale(out, m2, w, phi);
    }

    private void close2() {
        if (scratch == null) {
            if (x2 != null) x2.close();
            if (m2 != null) m2.close();
        }
        x2 = m2 = null;
    }

    /** Frees the scratch this guidance allocated itself (a caller's workspace frees its own). */
    @Override
    public void close() {
        close2();
        if (scratch == null) labels2.close();
    }
}
