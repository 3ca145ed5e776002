package dev.diffuse.samplers;

import java.util.List;

import dev.diffuse.samplers.diffusers.DiffusersSampler;
import dev.diffuse.samplers.diffusers.SchedulerConfig;
import dev.diffuse.samplers.flow.FlowSampler;

/**
 * Registry entries of the diffusers-compatible schedulers and the flow-matching samplers, for {@link Samplers} to
 * delegate to. "diffusers-ddpm" / "diffusers-ddim" use diffusers' default config (linear 1e-4..0.02, N = 1000,
 * leading spacing, epsilon) with the options' beta schedule ("cosine" = squaredcos_cap_v2), clip_sample and eta;
 * load a scheduler_config.json with {@link SchedulerConfig#fromFile} and build a {@link DiffusersSampler} for others.
 * Classifier-free guidance is a denoiser ({@link dev.diffuse.samplers.guidance.ClassifierFreeGuidance}) that any of
 * these samplers runs.
 */
public final class GuidedSamplers {
    public static final List<String> NAMES = List.of("diffusers-ddpm", "diffusers-ddim", "flow-euler", "flow-heun");

    private GuidedSamplers() {}

    /** The sampler called {@code name}, or null if the name is not one of {@link #NAMES}. */
    public static Sampler create(String name, Samplers.Options o) {
        return switch (name) {
            case "diffusers-ddpm" -> new DiffusersSampler(name, config(o), false, o.steps(), 0, false);
            case "diffusers-ddim" -> new DiffusersSampler(name, config(o), true, o.steps(), o.eta(), false);
            case "flow-euler" -> new FlowSampler(o.steps(), FlowSampler.Method.EULER);
            case "flow-heun" -> new FlowSampler(o.steps(), FlowSampler.Method.HEUN);
            default -> null;
        };
    }

    /** The prediction an analytic denoiser should give each of these samplers. */
    public static Denoiser.Prediction preferredPrediction(String name) {
        return name.startsWith("flow-") ? Denoiser.Prediction.VELOCITY : Denoiser.Prediction.EPSILON;
    }

    static SchedulerConfig config(Samplers.Options o) {
        String b = o.betaSchedule().equalsIgnoreCase("cosine") ? "squaredcos_cap_v2" : o.betaSchedule().replace('-', '_');
        return SchedulerConfig.defaults().with("beta_schedule", b).with("clip_sample", o.clipSample());
    }
}
