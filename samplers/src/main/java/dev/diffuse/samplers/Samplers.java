package dev.diffuse.samplers;

import java.util.List;

import dev.diffuse.samplers.pipeline.AnnealedLangevinSampler;
import dev.diffuse.samplers.pipeline.DdimSampler;
import dev.diffuse.samplers.pipeline.DdpmSampler;
import dev.diffuse.samplers.pipeline.LangevinSampler;
import dev.diffuse.samplers.pipeline.OdeSampler;
import dev.diffuse.samplers.pipeline.ReverseSdeSampler;
import dev.diffuse.samplers.schedule.BetaSchedule;
import dev.diffuse.samplers.schedule.DiscreteSchedule;
import dev.diffuse.samplers.schedule.VeSchedule;
import dev.diffuse.samplers.schedule.VeSde;
import dev.diffuse.samplers.schedule.VpSde;

/** The sampler registry: names (frozen once published) and their defaults. */
public final class Samplers {
    /** Every registered name, in the order {@code diffuse sample --help} lists them. */
    public static final List<String> NAMES = java.util.stream.Stream.of(
            List.of("ddpm", "ddim", "sde-vp", "sde-ve", "ode-euler", "ode-heun", "ode-euler-ve", "ode-heun-ve", "langevin", "annealed-langevin"),
            AdvancedSamplers.NAMES, GuidedSamplers.NAMES).flatMap(List::stream).toList();

    private Samplers() {}

    /**
     * Options shared by the registry; each sampler reads the ones it has.
     *
     * @param steps        steps (Heun: 2 evaluations each; annealed Langevin: total steps over all levels), e.g. 50
     * @param eta          DDIM's eta, e.g. 0
     * @param betaSchedule discrete schedule of ddpm/ddim: linear, scaled_linear or cosine
     * @param clipSample   clip predicted x0 to [-1, 1] (images; off for the Gaussian mixtures)
     * @param sigmaMin     VE and annealed Langevin, e.g. 0.01
     * @param sigmaMax     VE and annealed Langevin, e.g. 20 (about the data's diameter)
     * @param langevinStep ULA's step size eps, e.g. 0.01
     * @param langevinInitStd ULA's initial N(0, s^2) spread
     */
    public record Options(int steps, double eta, String betaSchedule, boolean clipSample, double sigmaMin, double sigmaMax,
                          double langevinStep, double langevinInitStd) {
        /** Most steps a sampler takes: its evaluation count (up to 4 per step) then fits in an int. */
        public static final int MAX_STEPS = 10_000_000;

        public Options {
            if (steps < 1 || steps > MAX_STEPS)
                throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "--steps must be between 1 and %,d, got %d", MAX_STEPS, steps));
        }

        public static Options defaults(int steps) { return new Options(steps, 0, "linear", false, 0.01, 20, 0.01, 4); }

        public Options withSigmaMax(double s) {
            return new Options(steps, eta, betaSchedule, clipSample, sigmaMin, s, langevinStep, langevinInitStd);
        }
    }

    public static Sampler create(String name, Options o) {
        DiscreteSchedule discrete = DiscreteSchedule.of(BetaSchedule.byName(o.betaSchedule()), 1000, 1e-4, 0.02);
        VeSchedule ve = new VeSchedule(o.sigmaMin(), o.sigmaMax());
        return switch (name) {
            case "ddpm" -> new DdpmSampler(discrete, o.steps(), o.clipSample(), 1.0);
            case "ddim" -> new DdimSampler(discrete, o.steps(), o.eta(), o.clipSample(), 1.0);
            case "sde-vp" -> new ReverseSdeSampler(VpSde.standard(), o.steps());
            case "sde-ve" -> new ReverseSdeSampler(new VeSde(ve), o.steps());
            case "ode-euler" -> new OdeSampler(VpSde.standard(), o.steps(), OdeSampler.Method.EULER);
            case "ode-heun" -> new OdeSampler(VpSde.standard(), o.steps(), OdeSampler.Method.HEUN);
            case "ode-euler-ve" -> new OdeSampler(new VeSde(ve), o.steps(), OdeSampler.Method.EULER);
            case "ode-heun-ve" -> new OdeSampler(new VeSde(ve), o.steps(), OdeSampler.Method.HEUN);
            case "langevin" -> new LangevinSampler(o.steps(), o.langevinStep(), o.langevinInitStd());
            case "annealed-langevin" -> {
                int levels = Math.min(10, o.steps());
                // Song and Ermon's ratio eps / sigma_L^2 = 2e-5 / 0.01^2 = 0.2: every level's step moves ~0.45 sigma_i.
                yield new AnnealedLangevinSampler(ve, levels, Math.max(1, o.steps() / levels), 0.2 * o.sigmaMin() * o.sigmaMin());
            }
            default -> {
                Sampler advanced = AdvancedSamplers.create(name, o);
                if (advanced == null) advanced = GuidedSamplers.create(name, o);
                if (advanced == null) throw new IllegalArgumentException("unknown sampler '" + name + "': use one of " + NAMES);
                yield advanced;
            }
        };
    }

    /** The prediction a sampler wants from an analytic denoiser: Langevin needs the score at sigma = 0. */
    public static Denoiser.Prediction preferredPrediction(String name) {
        if (name.equals("langevin") || name.equals("annealed-langevin")) return Denoiser.Prediction.SCORE;
        return GuidedSamplers.preferredPrediction(name);
    }
}
