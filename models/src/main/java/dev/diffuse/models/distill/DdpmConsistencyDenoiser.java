package dev.diffuse.models.distill;

import dev.diffuse.kernels.diffusion.SamplerStep;
import dev.diffuse.models.train.ModelDenoiser;
import dev.diffuse.models.train.NetworkDenoiser;
import dev.diffuse.models.train.TrainableModel;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.samplers.schedule.DiscreteSchedule;

/**
 * A distilled student as a sampler's {@link Prediction#X0} denoiser: f(x, t) = a_t x + b_t eps(x, t)
 * ({@link DdpmConsistency}) at the level's integer DDPM timestep, the epsilon network run in chunks by a
 * {@link ModelDenoiser}, the affine map one fused kernel. Load the target (EMA) weights into the model first.
 */
public final class DdpmConsistencyDenoiser implements NetworkDenoiser {
    private final ModelDenoiser eps;
    private final DiscreteSchedule schedule;
    private final double sigmaData;

    public DdpmConsistencyDenoiser(TrainableModel model, DiscreteSchedule schedule, double sigmaData) {
        this.eps = new ModelDenoiser(model, schedule);
        this.schedule = schedule;
        this.sigmaData = sigmaData;
    }

    @Override public Prediction prediction() { return Prediction.X0; }

    @Override
    public void predict(Tensor out, Tensor x, NoiseLevel level) {
        double tt = level.timestep();
        int t = (int) Math.round(tt);
        if (Math.abs(tt - t) > 1e-9 || t < 0 || t >= schedule.trainSteps())
            throw new IllegalArgumentException("distilled consistency model: needs an integer DDPM timestep 0.." + (schedule.trainSteps() - 1)
                    + ", got " + tt + " (sample it with the consistency sampler)");
        double[] ab = DdpmConsistency.coefficients(schedule, t, sigmaData);
        eps.predict(out, x, level);
        SamplerStep.step(out, x, out, ab[0], ab[1], 0, 0, 0);
    }

    @Override
    public void close() { eps.close(); }
}
