package dev.diffuse.cli;

import java.nio.file.Path;
import java.util.Locale;

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
 * an epsilon network works with every diffusion sampler, a flow network only with flow-euler / flow-heun (its output
 * is a velocity on the linear path), a consistency network only with the consistency sampler.
 */
final class ModelSamplers {
    private ModelSamplers() {}

    /** The sampler name to use: the given one when it fits the objective (else a clear error), or the objective's default. */
    static String check(ModelObjective objective, String sampler, Path dir) {
        String kind = objective.label();
        return switch (objective.kind()) {
            case EPSILON -> {
                if ("consistency".equals(sampler))
                    throw new IllegalArgumentException(dir + " is an epsilon-prediction model; the consistency sampler needs a consistency model "
                            + "(trained with 'diffuse train --objective consistency'); use e.g. --sampler ddim");
                yield sampler == null ? "ode-heun" : sampler;
            }
            case FLOW -> {
                if (sampler != null && !sampler.startsWith("flow-"))
                    throw new IllegalArgumentException(dir + " was trained with flow matching (" + ModelObjective.FILE + ": " + kind
                            + "): its output is a velocity on the linear path; use --sampler flow-euler or flow-heun, not " + sampler);
                yield sampler == null ? "flow-heun" : sampler;
            }
            case CONSISTENCY, CONSISTENCY_DDPM -> {
                if (sampler != null && !sampler.equals("consistency"))
                    throw new IllegalArgumentException(dir + " is a consistency model (" + ModelObjective.FILE + "): use --sampler consistency "
                            + "with --steps 1 or 2 (or more), not " + sampler);
                yield "consistency";
            }
        };
    }

    /**
     * The network as the denoiser its objective calls for; epsilon models on {@code schedule} (the one they were trained
     * on); class labels (-1: none) only for epsilon and flow models.
     */
    static NetworkDenoiser denoiser(TrainableModel net, ModelObjective objective, DiscreteSchedule schedule, int classLabel) {
        if ((objective.kind() == ModelObjective.Kind.CONSISTENCY || objective.kind() == ModelObjective.Kind.CONSISTENCY_DDPM) && classLabel >= 0)
            throw new IllegalArgumentException("--class: consistency models are unconditional in this version");
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
     */
    static Sampler create(ModelObjective objective, String sampler, Samplers.Options o) {
        if (objective.kind() == ModelObjective.Kind.CONSISTENCY_DDPM)  // the student's own grid, x0 clipped for images
            return DdpmConsistencySampler.onGrid(DiscreteSchedule.ddpmDefault(), 1000 / objective.teacherSteps(), objective.topTimestep(), o.steps(),
                    o.clipSample());
        if (objective.kind() != ModelObjective.Kind.CONSISTENCY) return Samplers.create(sampler, o);
        int k = o.steps();
        double a = Math.pow(objective.sigmaMax(), 1 / 7.0), b = Math.pow(objective.sigmaMin(), 1 / 7.0);
        double[] taus = new double[k];
        for (int i = 0; i < k; i++) taus[i] = Math.pow(a + (double) i / k * (b - a), 7);
        return new ConsistencySampler(taus, objective.sigmaMin());
    }

    static String describe(ModelObjective o) {
        return switch (o.kind()) {
            case CONSISTENCY -> String.format(Locale.ROOT, "consistency, sigma %.3g..%.3g, sigma_data %.3g", o.sigmaMin(), o.sigmaMax(), o.sigmaData());
            case CONSISTENCY_DDPM -> String.format(Locale.ROOT, "consistency distilled on a %d-step DDIM grid up to t = %d, sigma_data %.3g",
                    o.teacherSteps(), o.topTimestep(), o.sigmaData());
            default -> o.label();
        };
    }
}
