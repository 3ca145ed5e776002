package dev.diffuse.pipeline;

import java.io.Serializable;
import java.util.Locale;

import dev.diffuse.samplers.Samplers;

/**
 * One sampling request: how many images, with which sampler and settings, from which seed. Fields left null take the
 * model's defaults when the pipeline resolves the request ({@link DiffusionPipeline#resolve}): the sampler and steps
 * of its objective (ddim 25 for epsilon models, flow-heun 12 for flow models, consistency 1 step), a random seed, no
 * guidance, eta 0, clipping for image models. Ranges are checked here, one line per problem naming the field.
 * Serializable, so a job can ship one run's request to other JVMs that each draw a range of it ({@link #firstIndex}).
 * <pre>{@code
 * SampleRequest r = SampleRequest.builder().n(16).sampler("ddim").steps(25).seed(7).build();
 * }</pre>
 *
 * @param n          images, 1..{@value #MAX_N}
 * @param sampler    a registry name ({@link Samplers#NAMES}) or "consistency"; null = the model's default
 * @param steps      sampler steps, 1..{@value #MAX_STEPS}; null = the model's default
 * @param seed       keys the noise: image k of the request draws from (seed, firstIndex + k) whatever it is batched with; null = random
 * @param classLabel class id for a class-conditional model; null = its default (image k gets class k mod classes)
 * @param guidance   classifier-free guidance scale in [1, {@value #MAX_GUIDANCE}] as in diffusers (1 = none); null = none
 * @param eta        DDIM's eta in [0, 1] (ddim and diffusers-ddim only); null = 0
 * @param clip       clip the predicted x0 to [-1, 1] (ddpm/ddim and their diffusers forms); null = true for image models
 * @param firstIndex where this request starts in a larger logical run with the same seed and settings: its image k is
 *                   image {@code firstIndex + k} of that run (the same noise key and class label), so disjoint ranges
 *                   computed anywhere, in any order, make up the run bit for bit; 0 (default) = a run of its own
 */
public record SampleRequest(int n, String sampler, Integer steps, Long seed, Integer classLabel, Double guidance, Double eta,
                            Boolean clip, long firstIndex) implements Serializable {
    /** The most images one request may ask for (a stream of 100 million 28x28 images is 300 GB of floats). */
    public static final int MAX_N = 100_000_000;
    /** The most sampler steps (the DDPM schedule has 1000). */
    public static final int MAX_STEPS = 1000;
    /** The largest guidance scale accepted. */
    public static final double MAX_GUIDANCE = 50;

    public SampleRequest {
        if (n < 1 || n > MAX_N) throw new IllegalArgumentException("n must be in 1.." + MAX_N + ", got " + n);
        if (sampler != null && !Samplers.NAMES.contains(sampler) && !sampler.equals("consistency"))
            throw new IllegalArgumentException("sampler must be one of " + Samplers.NAMES + " or consistency, got '" + sampler + "'");
        if (steps != null && (steps < 1 || steps > MAX_STEPS))
            throw new IllegalArgumentException("steps must be in 1.." + MAX_STEPS + ", got " + steps);
        if (classLabel != null && classLabel < 0)
            throw new IllegalArgumentException("classLabel must be a class id >= 0, got " + classLabel);
        if (guidance != null && !(guidance >= 1 && guidance <= MAX_GUIDANCE))
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "guidance must be a scale in [1, %s] (1 = no guidance, as diffusers' guidance_scale), got %s", fmt(MAX_GUIDANCE), guidance));
        if (eta != null && !(eta >= 0 && eta <= 1)) throw new IllegalArgumentException("eta must be in [0, 1], got " + eta);
        if (firstIndex < 0 || firstIndex > MAX_INDEX - n)
            throw new IllegalArgumentException("firstIndex must be in 0.." + MAX_INDEX + " - n, got " + firstIndex);
    }

    /** The largest image index a run may reach (noise keys count values as index * D in a long). */
    public static final long MAX_INDEX = 1L << 40;

    /**
     * A request of its own (firstIndex 0), the form before ranges existed.
     * <pre>{@code
     * SampleRequest r = new SampleRequest(16, "ddim", 25, 7L, null, null, null, null);
     * }</pre>
     */
    public SampleRequest(int n, String sampler, Integer steps, Long seed, Integer classLabel, Double guidance, Double eta, Boolean clip) {
        this(n, sampler, steps, seed, classLabel, guidance, eta, clip, 0);
    }

    private static String fmt(double v) { return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v); }

    /**
     * A request for {@code n} images with every other field at the model's default.
     * <pre>{@code
     * SampleResult r = pipeline.sample(SampleRequest.of(64));
     * }</pre>
     */
    public static SampleRequest of(int n) { return new SampleRequest(n, null, null, null, null, null, null, null); }

    /**
     * A builder with n = 1 and every other field at the model's default.
     * <pre>{@code
     * SampleRequest r = SampleRequest.builder().n(8).seed(42).classLabel(3).guidance(3.0).build();
     * }</pre>
     */
    public static Builder builder() { return new Builder(); }

    /**
     * A builder holding this request's fields, to change some.
     * <pre>{@code
     * SampleRequest more = r.toBuilder().n(128).build();
     * }</pre>
     */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.n = n;
        b.sampler = sampler;
        b.steps = steps;
        b.seed = seed;
        b.classLabel = classLabel;
        b.guidance = guidance;
        b.eta = eta;
        b.clip = clip;
        b.firstIndex = firstIndex;
        return b;
    }

    /** Builds a {@link SampleRequest}; {@link #build} checks the ranges. */
    public static final class Builder {
        private int n = 1;
        private String sampler;
        private Integer steps, classLabel;
        private Long seed;
        private Double guidance, eta;
        private Boolean clip;
        private long firstIndex;

        private Builder() {}

        /** Images to draw, e.g. {@code n(64)}. */
        public Builder n(int n) { this.n = n; return this; }

        /** Sampler name, e.g. {@code sampler("ddim")}; null for the model's default. */
        public Builder sampler(String sampler) { this.sampler = sampler; return this; }

        /** Sampler steps, e.g. {@code steps(25)}. */
        public Builder steps(int steps) { this.steps = steps; return this; }

        /** The seed, e.g. {@code seed(7)}: the same request and seed give the same images on one device, batched or not. */
        public Builder seed(long seed) { this.seed = seed; return this; }

        /** The class of a class-conditional model, e.g. {@code classLabel(3)}. */
        public Builder classLabel(int classLabel) { this.classLabel = classLabel; return this; }

        /** Classifier-free guidance scale (diffusers' guidance_scale, 1 = none), e.g. {@code guidance(3.0)}. */
        public Builder guidance(double guidance) { this.guidance = guidance; return this; }

        /** DDIM's eta, e.g. {@code eta(0.5)} (0 = deterministic DDIM). */
        public Builder eta(double eta) { this.eta = eta; return this; }

        /** Clip the predicted x0 to [-1, 1] in ddpm/ddim, e.g. {@code clip(false)}. */
        public Builder clip(boolean clip) { this.clip = clip; return this; }

        /**
         * Start at image {@code firstIndex} of a larger run with the same seed and settings, e.g. {@code firstIndex(1000).n(500)}
         * for images 1000..1499 of it, bit for bit. Needs a seed (a random one would make it a different run) and a
         * sampler that treats images independently (not the predictor-corrector samplers).
         */
        public Builder firstIndex(long firstIndex) { this.firstIndex = firstIndex; return this; }

        /**
         * The request; a value out of range gets a one-line IllegalArgumentException naming the field and the range.
         * <pre>{@code
         * SampleRequest r = SampleRequest.builder().n(4).build();
         * }</pre>
         */
        public SampleRequest build() { return new SampleRequest(n, sampler, steps, seed, classLabel, guidance, eta, clip, firstIndex); }
    }
}
