package dev.diffuse.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.diffuse.models.consistency.ConsistencyDenoiser;
import dev.diffuse.models.distill.DdpmConsistencyDenoiser;
import dev.diffuse.models.train.FlowModelDenoiser;
import dev.diffuse.models.train.ModelDenoiser;
import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.models.train.NetworkDenoiser;
import dev.diffuse.models.train.TrainableModel;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.Samplers;
import dev.diffuse.samplers.consistency.ConsistencySampler;
import dev.diffuse.samplers.consistency.DdpmConsistencySampler;
import dev.diffuse.samplers.schedule.DiscreteSchedule;

/**
 * Matching a trained network's objective ({@link ModelObjective}) to its denoiser and to the samplers that can use it:
 * an epsilon network (trained on the variance-preserving DDPM path) works with the VP samplers ({@link #VP_SAMPLERS}),
 * a flow network only with flow-euler / flow-heun (its output is a velocity on the linear path), a consistency network
 * only with the consistency sampler. Defaults cost about 25 network evaluations: ddim 25 steps, flow-heun 12 steps,
 * consistency 1 step.
 */
public final class ObjectiveSamplers {
    /**
     * The samplers of the registry that run on the variance-preserving path an epsilon network was trained on. The
     * variance-exploding ones (sde-ve, ode-*-ve, edm-*, pc-ve, the Langevin samplers) feed it inputs at a scale it has
     * never seen (x0 + sigma z without the sqrt(alpha_bar) shrink), and the flow samplers a path it was not trained on.
     */
    public static final List<String> VP_SAMPLERS = List.of("ddpm", "ddim", "sde-vp", "ode-euler", "ode-heun", "ode-rk4",
            "dpmpp-2m", "dpm-2s", "pc-vp", "diffusers-ddpm", "diffusers-ddim");

    private static final ObjectMapper JSON = new ObjectMapper();

    private ObjectiveSamplers() {}

    /**
     * The sampler a model of this objective uses when none is asked for.
     * <pre>{@code
     * ObjectiveSamplers.defaultSampler(ModelObjective.flow());   // "flow-heun"
     * }</pre>
     */
    public static String defaultSampler(ModelObjective objective) {
        return switch (objective.kind()) {
            case EPSILON -> "ddim";
            case FLOW -> "flow-heun";
            case CONSISTENCY, CONSISTENCY_DDPM -> "consistency";
        };
    }

    /**
     * The default number of steps: about 25 network evaluations (ddim 25, flow-heun 12 = 24 evaluations,
     * consistency 1).
     * <pre>{@code
     * ObjectiveSamplers.defaultSteps(ModelObjective.epsilon());   // 25
     * }</pre>
     */
    public static int defaultSteps(ModelObjective objective) {
        return switch (objective.kind()) {
            case EPSILON -> 25;
            case FLOW -> 12;
            case CONSISTENCY -> 1;
            case CONSISTENCY_DDPM -> 2;
        };
    }

    /**
     * The sampler name to use: the given one when it fits the objective (else a one-line error naming the fitting
     * ones), or the objective's default when {@code sampler} is null. {@code dir} names the model in the error.
     * <pre>{@code
     * String s = ObjectiveSamplers.check(ModelObjective.epsilon(), null, dir);   // "ddim"
     * }</pre>
     */
    public static String check(ModelObjective objective, String sampler, Path dir) {
        String kind = objective.label();
        return switch (objective.kind()) {
            case EPSILON -> {
                if (sampler == null) yield defaultSampler(objective);
                if ("consistency".equals(sampler))
                    throw new IllegalArgumentException(dir + " is an epsilon-prediction model; the consistency sampler needs a consistency model "
                            + "(trained with 'diffuse train --objective consistency'); use e.g. sampler ddim");
                if (Samplers.NAMES.contains(sampler) && !VP_SAMPLERS.contains(sampler))
                    throw new IllegalArgumentException(dir + " is a DDPM epsilon-prediction model (variance-preserving path); sampler " + sampler
                            + " runs another path the network was not trained on; use one of " + VP_SAMPLERS);
                yield sampler;
            }
            case FLOW -> {
                if (sampler != null && !sampler.startsWith("flow-"))
                    throw new IllegalArgumentException(dir + " was trained with flow matching (" + ModelObjective.FILE + ": " + kind
                            + "): its output is a velocity on the linear path; use sampler flow-euler or flow-heun, not " + sampler);
                yield sampler == null ? defaultSampler(objective) : sampler;
            }
            case CONSISTENCY, CONSISTENCY_DDPM -> {
                if (sampler != null && !sampler.equals("consistency"))
                    throw new IllegalArgumentException(dir + " is a consistency model (" + ModelObjective.FILE + "): use sampler consistency "
                            + "with 1 or 2 steps (or more), not " + sampler);
                yield "consistency";
            }
        };
    }

    /**
     * The network as the denoiser its objective calls for; epsilon models on {@code schedule} (the one they were trained
     * on); one class label for all rows (-1: none) only for epsilon and flow models. Epsilon and flow denoisers also
     * take a label per row ({@link dev.diffuse.samplers.guidance.ConditionalDenoiser}).
     * <pre>{@code
     * try (NetworkDenoiser den = ObjectiveSamplers.denoiser(net, objective, DiscreteSchedule.ddpmDefault(), -1)) { ... }
     * }</pre>
     */
    public static NetworkDenoiser denoiser(TrainableModel net, ModelObjective objective, DiscreteSchedule schedule, int classLabel) {
        if ((objective.kind() == ModelObjective.Kind.CONSISTENCY || objective.kind() == ModelObjective.Kind.CONSISTENCY_DDPM) && classLabel >= 0)
            throw new IllegalArgumentException("class label: consistency models are unconditional in this version");
        return switch (objective.kind()) {
            case EPSILON -> new ModelDenoiser(net, schedule).classLabel(classLabel);
            case FLOW -> new FlowModelDenoiser(net).classLabel(classLabel);
            case CONSISTENCY -> new ConsistencyDenoiser(net, objective.sigmaMin(), objective.sigmaData());
            case CONSISTENCY_DDPM -> new DdpmConsistencyDenoiser(net, schedule, objective.sigmaData());
        };
    }

    /**
     * The sampler: the registry's for epsilon and flow models; for a consistency model {@code steps} noise levels
     * tau_0 = sigma_max &gt; ... &gt; tau_{steps-1}, the first {@code steps} points of the Karras grid (rho 7) with
     * {@code steps + 1} points from sigma_max down to sigma_min (2 steps: tau_1 = 2.51 for sigma 0.002..80).
     * <pre>{@code
     * Sampler s = ObjectiveSamplers.create(objective, "ddim", Samplers.Options.defaults(25));
     * }</pre>
     */
    public static Sampler create(ModelObjective objective, String sampler, Samplers.Options o) {
        if (objective.kind() == ModelObjective.Kind.CONSISTENCY_DDPM)  // the student's own grid (multistep consistency on the DDPM path)
            return DdpmConsistencySampler.onGrid(DiscreteSchedule.ddpmDefault(), 1000 / objective.teacherSteps(), objective.topTimestep(), o.steps(),
                    o.clipSample());
        if (objective.kind() != ModelObjective.Kind.CONSISTENCY) return Samplers.create(sampler, o);
        int k = o.steps();
        double a = Math.pow(objective.sigmaMax(), 1 / 7.0), b = Math.pow(objective.sigmaMin(), 1 / 7.0);
        double[] taus = new double[k];
        for (int i = 0; i < k; i++) taus[i] = Math.pow(a + (double) i / k * (b - a), 7);
        return new ConsistencySampler(taus, objective.sigmaMin());
    }

    /**
     * The objective in words, e.g. "epsilon" or "consistency, sigma 0.002..80, sigma_data 0.5".
     * <pre>{@code
     * System.out.println(ObjectiveSamplers.describe(objective));
     * }</pre>
     */
    public static String describe(ModelObjective o) {
        return switch (o.kind()) {
            case CONSISTENCY -> String.format(Locale.ROOT, "consistency, sigma %.3g..%.3g, sigma_data %.3g", o.sigmaMin(), o.sigmaMax(), o.sigmaData());
            case CONSISTENCY_DDPM -> String.format(Locale.ROOT, "consistency distilled on a %d-step DDIM grid up to t = %d, sigma_data %.3g",
                    o.teacherSteps(), o.topTimestep(), o.sigmaData());
            default -> o.label();
        };
    }

    /**
     * The class id a class-conditional network takes as "no class" (for classifier-free guidance): {@code "null_class"}
     * in {@code objective.json}, written for models trained with dropped labels; -1 when the model has none.
     * <pre>{@code
     * int nullClass = ObjectiveSamplers.nullClass(folder);   // e.g. 10 for 10 classes + 1 unconditional row
     * }</pre>
     */
    public static int nullClass(Path folder) throws IOException {
        Path f = folder.resolve(ModelObjective.FILE);
        if (!Files.isRegularFile(f)) return -1;
        JsonNode n = JSON.readTree(f.toFile());
        JsonNode v = n == null ? null : n.get("null_class");
        if (v == null || v.isNull()) return -1;
        if (!v.canConvertToInt() || v.asInt() < 0) throw new IOException(f + ": \"null_class\" must be a class id >= 0, got " + v);
        return v.asInt();
    }
}
