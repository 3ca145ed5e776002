package dev.diffuse.cli;

import java.nio.file.Path;

import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.models.train.NetworkDenoiser;
import dev.diffuse.models.train.TrainableModel;
import dev.diffuse.pipeline.ObjectiveSamplers;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.Samplers;
import dev.diffuse.samplers.schedule.DiscreteSchedule;

/** The CLI's name for {@link ObjectiveSamplers} (the library's): which denoiser and samplers fit a network's objective. */
final class ModelSamplers {
    private ModelSamplers() {}

    static String check(ModelObjective objective, String sampler, Path dir) { return ObjectiveSamplers.check(objective, sampler, dir); }

    static NetworkDenoiser denoiser(TrainableModel net, ModelObjective objective, DiscreteSchedule schedule, int classLabel) {
        return ObjectiveSamplers.denoiser(net, objective, schedule, classLabel);
    }

    static Sampler create(ModelObjective objective, String sampler, Samplers.Options o) { return ObjectiveSamplers.create(objective, sampler, o); }

    static String describe(ModelObjective o) { return ObjectiveSamplers.describe(o); }
}
