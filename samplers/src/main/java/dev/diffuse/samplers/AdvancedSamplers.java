package dev.diffuse.samplers;

import java.util.List;

import dev.diffuse.samplers.pipeline.DpmSolverSampler;
import dev.diffuse.samplers.pipeline.EdmSampler;
import dev.diffuse.samplers.pipeline.PredictorCorrectorSampler;
import dev.diffuse.samplers.pipeline.Rk4OdeSampler;
import dev.diffuse.samplers.schedule.KarrasSchedule;
import dev.diffuse.samplers.schedule.NoisePath;
import dev.diffuse.samplers.schedule.VeSchedule;
import dev.diffuse.samplers.schedule.VeSde;
import dev.diffuse.samplers.schedule.VpSchedule;
import dev.diffuse.samplers.schedule.VpSde;

/**
 * Higher-order and adaptive samplers, for the {@link Samplers} registry to delegate to. Defaults:
 * <ul>
 *   <li>edm-euler, edm-heun, edm-churn: Karras levels (rho = 7) from Options.sigmaMax down to Options.sigmaMin, then 0;
 *       edm-churn uses EDM's ImageNet-64 stochasticity S_churn = 40, S_tmin = 0.05, S_tmax = 50, S_noise = 1.003</li>
 *   <li>dpmpp-2m, dpm-2s: DPM-Solver++ (data prediction) on the continuous VP schedule (beta 0.1..20, t_end = 1e-3),
 *       steps uniform in log-SNR, lower-order final step below 15 steps; dpm-2s costs two evaluations a step</li>
 *   <li>ode-rk4, ode-rk4-ve: the probability-flow ODE with classic RK4 (four evaluations a step), VP and VE</li>
 *   <li>pc-vp, pc-ve: reverse-diffusion predictor + one Langevin corrector with r = 0.16 (two evaluations a step)</li>
 * </ul>
 */
public final class AdvancedSamplers {
    public static final List<String> NAMES = List.of("edm-euler", "edm-heun", "edm-churn", "dpmpp-2m", "dpm-2s",
            "ode-rk4", "ode-rk4-ve", "pc-vp", "pc-ve");

    /** Song et al.'s target signal-to-noise ratio for the Langevin corrector (CIFAR-10). */
    public static final double PC_SNR = 0.16;

    private AdvancedSamplers() {}

    /** The sampler of that name with the options' settings, or null when the name is not one of {@link #NAMES}. */
    public static Sampler create(String name, Samplers.Options o) {
        VeSde ve = new VeSde(new VeSchedule(o.sigmaMin(), o.sigmaMax()));
        KarrasSchedule karras = KarrasSchedule.of(o.sigmaMin(), o.sigmaMax());
        return switch (name) {
            case "edm-euler" -> EdmSampler.deterministic(karras, o.steps(), false);
            case "edm-heun" -> EdmSampler.deterministic(karras, o.steps(), true);
            case "edm-churn" -> new EdmSampler(karras, o.steps(), true, 40, 0.05, 50, 1.003);
            case "dpmpp-2m" -> new DpmSolverSampler(NoisePath.vpLogSnr(VpSchedule.standard(), o.steps()), DpmSolverSampler.Method.MULTISTEP_2M, true);
            case "dpm-2s" -> new DpmSolverSampler(NoisePath.vpLogSnr(VpSchedule.standard(), o.steps()), DpmSolverSampler.Method.SINGLESTEP_2S, true);
            case "ode-rk4" -> new Rk4OdeSampler(VpSde.standard(), o.steps());
            case "ode-rk4-ve" -> new Rk4OdeSampler(ve, o.steps());
            case "pc-vp" -> new PredictorCorrectorSampler(VpSde.standard(), o.steps(), PredictorCorrectorSampler.Predictor.REVERSE_DIFFUSION, 1, PC_SNR);
            case "pc-ve" -> new PredictorCorrectorSampler(ve, o.steps(), PredictorCorrectorSampler.Predictor.REVERSE_DIFFUSION, 1, PC_SNR);
            default -> null;
        };
    }
}
