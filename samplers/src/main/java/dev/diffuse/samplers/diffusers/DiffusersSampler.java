package dev.diffuse.samplers.diffusers;

import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.Sampler;

/**
 * diffusers' DDPMPipeline / DDIMPipeline loop (spec §6.8) over a {@link Denoiser}: x ~ N(0, I); for t in the
 * scheduler's table: m = model(x, t); x = scheduler.step(m, t, x).prev. The denoiser must predict what the config's
 * prediction_type says (epsilon = EPSILON, sample = X0, v_prediction = V); learned variances need a model output with
 * twice the channels, which a Denoiser does not give, so they are rejected here (use {@link DdpmScheduler#step}).
 * Step k draws its noise from stream k + 1 (stream 0 is the prior), like the other samplers.
 *
 * @param ddim   DDIMScheduler (else DDPMScheduler)
 * @param eta    DDIM's eta (ignored for DDPM)
 */
public record DiffusersSampler(String name, SchedulerConfig config, boolean ddim, int steps, double eta,
                               boolean useClippedModelOutput) implements Sampler {
    public DiffusersSampler {
        if (config.varianceType().learned())
            throw new IllegalArgumentException(name + ": variance_type " + config.varianceType().key() + " needs the model's variance "
                    + "channels, which a Denoiser does not return; call DdpmScheduler.step with the full model output instead");
        (ddim ? new DdimScheduler(config) : new DdpmScheduler(config)).setTimesteps(steps); // validates steps (and the trailing quirk) now rather than mid-run
    }

    public DiffusersScheduler newScheduler() { return ddim ? new DdimScheduler(config) : new DdpmScheduler(config); }

    @Override public int evaluations() { return steps; }

    /** DDIM with eta = 0; DDPM always draws noise. */
    @Override public boolean deterministic() { return ddim && eta == 0; }

    @Override public double priorStd() { return 1; }

    @Override
    public void run(Denoiser model, Tensor x, Noise noise, Workspace ws) {
        DiffusersScheduler s = newScheduler();
        if (model.prediction() != s.prediction())
            throw new IllegalArgumentException(name + ": prediction_type " + config.predictionType().key() + " needs a denoiser predicting "
                    + s.prediction() + ", but this one predicts " + model.prediction());
        s.setTimesteps(steps);
        Tensor m = ws.like(x), thr = config.thresholding() ? ws.tensor(x.dim(0)) : null;
        int[] ts = s.timesteps();
        for (int k = 0; k < ts.length; k++) {
            int t = ts[k];
            model.predict(m, x, s.level(t));
            switch (s) {
                case DdpmScheduler d -> d.step(x, null, m, t, x, thr, noise, k + 1L);
                case DdimScheduler d -> d.step(x, null, m, t, x, eta, useClippedModelOutput, thr, noise, k + 1L);
            }
        }
    }
}
