package dev.diffuse.pipeline;

import java.util.List;
import java.util.concurrent.CancellationException;

import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.models.train.NetworkDenoiser;
import dev.diffuse.models.train.TrainableModel;
import dev.diffuse.models.vae.AutoencoderKL;
import dev.diffuse.models.vae.LatentSpace;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.RowNoise;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.Samplers;
import dev.diffuse.samplers.guidance.ClassifierFreeGuidance;
import dev.diffuse.samplers.guidance.ConditionalDenoiser;

/**
 * Runs one batch: rows from one or more requests with one {@link Plan.Key}. Row r of the batch is image k of its
 * request, that is image i = firstIndex + k of the request's logical run ({@link SampleRequest#firstIndex}), and draws
 * all its noise (prior and every stochastic step) under the key (request seed, i * D), D the values per image
 * ({@link RowNoise}); its class label rides along per row. So a row's result depends on its request and index only,
 * provided the network computes each row the same way whatever the batch (it does: every output element is one fixed
 * chain of operations over that row). All memory of a batch (the sampler's state and scratch, labels,
 * guidance buffers, noise keys) is taken before the first evaluation and freed in {@code finally}.
 */
final class Engine implements AutoCloseable {
    /** Sampler state and scratch tensors of x's size a batch may take (RK4: x, four stage outputs and a stage state). */
    static final int SAMPLER_TENSORS = 9;

    final Device device;
    final TrainableModel net;
    final NetworkDenoiser denoiser;
    final ModelObjective objective;
    final int[] sampleShape;
    final int per;
    final int nullClass;
    /** A latent model's space and VAE: samples are decoded before they are returned; both null for a pixel model. */
    final LatentSpace latent;
    final AutoencoderKL vae;

    /** @param nullClass the network's "no class" id for guidance, -1 when it has none */
    Engine(Device device, TrainableModel net, NetworkDenoiser denoiser, ModelObjective objective, int nullClass) {
        this(device, net, denoiser, objective, nullClass, null, null);
    }

    /** @param latent, vae a latent model's space and its VAE (decoding the samples), or null */
    Engine(Device device, TrainableModel net, NetworkDenoiser denoiser, ModelObjective objective, int nullClass, LatentSpace latent,
           AutoencoderKL vae) {
        this.device = device;
        this.net = net;
        this.denoiser = denoiser;
        this.objective = objective;
        this.nullClass = nullClass;
        this.latent = latent;
        this.vae = vae;
        this.sampleShape = net.sampleShape();
        this.per = Math.toIntExact(Tensor.numel(sampleShape));
    }

    /** Device bytes one batch of {@code rows} images takes beyond the model (guided: the 2B-row copies of x and m). */
    static long batchBytes(int rows, long per, boolean guided) {
        return 4L * rows * per * (SAMPLER_TENSORS + (guided ? 4 : 0)) + 16L * rows + (1 << 20);
    }

    /** Checks, at every network evaluation, whether the batch should stop, and reports progress after it. */
    interface Control {
        /** Throws CancellationException when no request of the batch wants its rows any more. */
        void beforeEvaluation();

        void afterEvaluation(int done, int total);
    }

    /** Runs the sampler over the batch and returns its (rows, ...) values. */
    float[] run(List<BatchQueue.Slice> slices, Plan.Key key, Control control) {
        int rows = 0;
        for (BatchQueue.Slice s : slices) rows += s.count();
        long[] seeds = new long[rows], firsts = new long[rows];
        int[] labels = new int[rows];
        int r = 0;
        for (BatchQueue.Slice s : slices)
            for (int k = 0; k < s.count(); k++, r++) {
                long image = s.job().plan.firstIndex() + s.first() + k;
                seeds[r] = s.job().plan.seed();
                firsts[r] = Math.multiplyExact(image, per);
                labels[r] = s.job().plan.labelOf(image);
            }
        Sampler sampler = ObjectiveSamplers.create(objective, key.sampler(),
                new Samplers.Options(key.steps(), key.eta(), "linear", key.clip(), 0.01, 80, 0.01, 1));
        int[] shape = new int[sampleShape.length + 1];
        shape[0] = rows;
        System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
        boolean guided = key.w() > 0;
        ClassifierFreeGuidance cfg = null;
        try (Workspace ws = new Workspace(device, "pipeline batch", batchBytes(rows, per, guided));
             RowNoise noise = new RowNoise(seeds, firsts)) {
            Denoiser den = denoiser;
            if (guided) {
                den = cfg = new ClassifierFreeGuidance((ConditionalDenoiser) denoiser, ws, labels, key.w(), 0, nullClass);
            } else if (labels[0] >= 0) {
                den = ConditionalDenoiser.labelled((ConditionalDenoiser) denoiser, ws, labels);
            }
            Tensor x = sampler.sample(new Monitored(den, control, sampler.evaluations()), ws, noise, shape);
            return latent == null ? x.toArray() : latent.decode(vae, x);
        } finally {
            if (cfg != null) cfg.close();
        }
    }

    /** The denoiser with a cancellation check before, and a progress report after, every evaluation. */
    private record Monitored(Denoiser inner, Control control, int evaluations, int[] done) implements Denoiser {
        Monitored(Denoiser inner, Control control, int evaluations) { this(inner, control, evaluations, new int[1]); }

        @Override public Prediction prediction() { return inner.prediction(); }

        @Override
        public void predict(Tensor out, Tensor x, NoiseLevel level) {
            control.beforeEvaluation();
            inner.predict(out, x, level);
            control.afterEvaluation(++done[0], evaluations);
        }
    }

    @Override
    public void close() {
        try {
            denoiser.close();
        } finally {
            try {
                net.close();
            } finally {
                if (vae != null) vae.close();
            }
        }
    }

    /** Thrown by a {@link Control} when every request of the batch was cancelled. */
    static CancellationException allCancelled() {
        return new CancellationException("every request of the batch was cancelled");
    }
}
