package dev.diffuse.samplers.schedule;

/** The VP SDE of a {@link VpSchedule}: f = -beta(t)/2, g^2 = beta(t), prior N(0, I). */
public record VpSde(VpSchedule schedule) implements Sde {
    public static VpSde standard() { return new VpSde(VpSchedule.standard()); }

    @Override public double drift(double t) { return -0.5 * schedule.beta(t); }

    @Override public double g2(double t) { return schedule.beta(t); }

    @Override public double scale(double t) { return schedule.scale(t); }

    @Override public double sigma(double t) { return schedule.sigma(t); }

    @Override public double priorStd() { return 1; }

    @Override public double tEnd() { return schedule.tEnd(); }

    @Override public String name() { return "vp"; }
}
