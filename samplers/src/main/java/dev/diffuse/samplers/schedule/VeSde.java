package dev.diffuse.samplers.schedule;

/** The VE SDE of a {@link VeSchedule}: f = 0, g^2 = d sigma^2/dt, prior N(0, sigma_max^2 I), integrated to t = 0. */
public record VeSde(VeSchedule schedule) implements Sde {
    @Override public double drift(double t) { return 0; }

    @Override public double g2(double t) { return schedule.g2(t); }

    @Override public double scale(double t) { return 1; }

    @Override public double sigma(double t) { return schedule.sigma(t); }

    @Override public double priorStd() { return schedule.sigmaMax(); }

    @Override public double tEnd() { return 0; }

    @Override public String name() { return "ve"; }
}
