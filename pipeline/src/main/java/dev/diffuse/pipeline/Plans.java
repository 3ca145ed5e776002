package dev.diffuse.pipeline;

import java.util.stream.IntStream;

import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.Samplers;

/** Resolving a request against a model: defaults, the checks that need the model, and the batch key. */
final class Plans {
    private Plans() {}

    static Plan of(SampleRequest r, ModelInfo info, ModelObjective objective) {
        String sampler = ObjectiveSamplers.check(objective, r.sampler(), info.folder());
        boolean isDefault = sampler.equals(info.defaultSampler());
        int steps = r.steps() != null ? r.steps() : isDefault ? info.defaultSteps() : 25;
        long seed = r.seed() != null ? r.seed() : DiffusionPipeline.randomSeed();
        double eta = r.eta() != null ? r.eta() : 0;
        if (eta != 0 && !Plan.ETA.contains(sampler))
            throw new IllegalArgumentException("eta applies to " + Plan.ETA + " only; sampler " + sampler + " has none (leave eta at 0)");
        boolean clip = r.clip() != null ? r.clip() : info.isImageModel() && info.latentShape() == null;  // latents are not in [-1, 1]

        int classes = info.numClasses(), nullClass = info.nullClass();
        int label = -1;
        int[] cycle = null;
        if (r.classLabel() != null) {
            if (classes == 0)
                throw new IllegalArgumentException("classLabel: " + info.folder() + " is unconditional (no class embedding); leave classLabel unset");
            int k = r.classLabel();
            if (k >= classes || k == nullClass)
                throw new IllegalArgumentException("classLabel must be in 0.." + (classes - 1) + (nullClass >= 0 ? " except " + nullClass
                        + " (the model's \"no class\" id)" : "") + " for this model, got " + k);
            label = k;
        } else if (classes > 0) {
            cycle = IntStream.range(0, classes).filter(c -> c != nullClass).toArray();
        }

        double w = r.guidance() != null ? r.guidance() - 1 : 0;
        if (w > 0 && nullClass < 0)
            throw new IllegalArgumentException("guidance: " + info.folder() + (classes == 0 ? " is unconditional" : " has no \"no class\" id (\"null_class\" in "
                    + ModelObjective.FILE + ")") + ", so classifier-free guidance cannot run; it needs a class-conditional model trained with dropped labels");

        Sampler s = ObjectiveSamplers.create(objective, sampler, new Samplers.Options(steps, eta, "linear", clip, 0.01, 80, 0.01, 1));
        boolean coupled = !s.rowIndependent();
        if (coupled && r.n() > info.maxBatch())
            throw new IllegalArgumentException("n: sampler " + sampler + " couples the images of a batch (its Langevin step uses norms over the "
                    + "whole batch), so it runs only as one batch: n must be at most " + info.maxBatch() + ", got " + r.n() + "; lower n or use another sampler");

        if (r.firstIndex() > 0) {
            if (r.seed() == null)
                throw new IllegalArgumentException("firstIndex: a range of a larger run needs that run's seed; set seed (a random one makes another run)");
            if (coupled)
                throw new IllegalArgumentException("firstIndex: sampler " + sampler + " couples the images of a batch, so a range cannot reproduce "
                        + "the images of a larger run; use another sampler (or firstIndex 0)");
            long per = Tensor.numel(info.sampleShape());
            if (r.firstIndex() + r.n() > Long.MAX_VALUE / per)
                throw new IllegalArgumentException("firstIndex: images up to " + (r.firstIndex() + r.n()) + " of " + per
                        + " values each overflow the noise counter; use a smaller index");
        }
        SampleRequest resolved = new SampleRequest(r.n(), sampler, steps, seed, r.classLabel(), r.guidance(), eta, clip, r.firstIndex());
        Plan.Key key = new Plan.Key(sampler, steps, Plan.ETA.contains(sampler) ? eta : 0, Plan.CLIP.contains(sampler) && clip, w);
        return new Plan(resolved, key, label, cycle, coupled);
    }
}
