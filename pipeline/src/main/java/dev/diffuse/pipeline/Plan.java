package dev.diffuse.pipeline;

import java.util.Set;

/**
 * A request resolved against the model: every setting fixed, the batch key it can share a batch under, and the class
 * label of each of its images.
 *
 * @param request  the resolved request (sampler, steps, seed, eta and clip set)
 * @param key      requests with equal keys may share a batch
 * @param label    the class of every image (>= 0), or -1 when {@code cycle} decides (or the model is unconditional)
 * @param cycle    the classes images cycle through (image k gets cycle[k mod length]), or null
 * @param coupled  the sampler couples the rows of a batch (predictor-corrector): never shared, never split
 */
record Plan(SampleRequest request, Key key, int label, int[] cycle, boolean coupled) {
    /** Samplers that read eta. */
    static final Set<String> ETA = Set.of("ddim", "diffusers-ddim");
    /** Samplers that clip the predicted x0. */
    static final Set<String> CLIP = Set.of("ddpm", "ddim", "diffusers-ddpm", "diffusers-ddim");

    /**
     * What a batch shares: the sampler and its settings. eta and clip are normalised away for samplers that do not read
     * them, so requests that differ only there still share batches.
     *
     * @param w guidance weight (diffusers' scale - 1; 0 = no guidance)
     */
    record Key(String sampler, int steps, double eta, boolean clip, double w) {}

    int n() { return request.n(); }

    long seed() { return request.seed(); }

    /** Image k of this request is image firstIndex + k of its logical run: that index keys its noise and class. */
    long firstIndex() { return request.firstIndex(); }

    /** The class of image k of the request, -1 for none. */
    int labelOf(long k) {
        if (label >= 0) return label;
        return cycle == null ? -1 : cycle[(int) (k % cycle.length)];
    }
}
