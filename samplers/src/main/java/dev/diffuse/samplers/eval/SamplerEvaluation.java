package dev.diffuse.samplers.eval;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.BiFunction;

import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.Samplers;
import dev.diffuse.samplers.gmm.GaussianMixture;
import dev.diffuse.samplers.gmm.MixtureDenoisers;
import dev.diffuse.samplers.gmm.MixturePresets;
import dev.diffuse.samplers.metrics.MixtureStats;
import dev.diffuse.samplers.metrics.SlicedWasserstein;

/**
 * The accuracy table of {@code diffuse eval-samplers}: every sampler on every mixture preset at a ladder of network
 * evaluations (NFE), measured as ../shared/MEASURING-SAMPLERS.md asks: sliced-W2 beside its exact-vs-exact floor,
 * the gap in mean exact log-density with its standard error, and for deterministic samplers the endpoint error from
 * a fixed x_T against a converged solution, whose ratio between NFE and 2 NFE gives the empirical order.
 */
public final class SamplerEvaluation {
    /** One sampler at one NFE on one preset. */
    public record Row(String sampler, String preset, int requestedNfe, int nfe, int steps, double sw2, double floor, double logpGap, double logpSe, double seconds) {}

    /** Deterministic endpoint errors of one ODE-type sampler on one preset, and the empirical order. */
    public record Order(String sampler, String preset, int[] nfe, double[] error, double order) {}

    private final Device device;
    private final BiFunction<String, Samplers.Options, Sampler> factory;
    private final int n;
    private final long seed;
    private final PrintStream log;

    /**
     * @param factory makes a sampler from a name and options (normally {@link Samplers#create})
     * @param n       samples per measurement, e.g. 4000
     */
    public SamplerEvaluation(Device device, BiFunction<String, Samplers.Options, Sampler> factory, int n, long seed, PrintStream log) {
        this.device = device;
        this.factory = factory;
        this.n = n;
        this.seed = seed;
        this.log = log;
    }

    static double sigmaMax(GaussianMixture m) { return m.dim() > 2 ? 40 : 20; }

    /**
     * Steps giving at most {@code nfe} evaluations, or -1 where not even one step fits (a Heun step costs two): such a
     * cell is left out rather than run at more evaluations than its column says.
     */
    int stepsFor(String name, int nfe) {
        int perStep = Math.max(1, factory.apply(name, Samplers.Options.defaults(1)).evaluations());
        return nfe < perStep ? -1 : nfe / perStep;
    }

    float[] sample(String name, int steps, GaussianMixture m, long s, int rows) {
        Sampler sampler = factory.apply(name, Samplers.Options.defaults(steps).withSigmaMax(sigmaMax(m)));
        try (var den = MixtureDenoisers.forSampler(m, device, name);
             Workspace ws = new Workspace(device, "eval " + name, Math.max(64L << 20, 16L * rows * m.dim() * 4))) {
            return sampler.sample(den, ws, s, rows, m.dim()).toArray();
        }
    }

    public List<Row> table(List<String> samplers, List<String> presets, int[] nfes) {
        List<Row> rows = new ArrayList<>();
        for (String preset : presets) {
            GaussianMixture m = MixturePresets.byName(preset);
            float[] truth = m.sample(Math.max(20_000, n), seed + 1);
            double floor = SlicedWasserstein.exactFloor(m, n, truth.length / m.dim(), SlicedWasserstein.DEFAULT_DIRECTIONS, seed + 2);
            var exact = MixtureStats.exactMeanLogDensity(m, 20_000, seed + 3);
            for (String name : samplers) {
                for (int nfe : nfes) {
                    int steps = stepsFor(name, nfe);
                    if (name.equals("langevin")) continue; // samples p with no noise schedule: not comparable per NFE
                    if (steps < 0) {
                        log.println("  skip " + name + " at " + nfe + " NFE: one step takes more evaluations");
                        continue;
                    }
                    Sampler probe = factory.apply(name, Samplers.Options.defaults(steps));
                    long t0 = System.nanoTime();
                    float[] x;
                    try {
                        x = sample(name, steps, m, seed, n);
                    } catch (IllegalArgumentException e) {
                        log.println("  skip " + name + " at " + nfe + " NFE: " + e.getMessage());
                        continue;
                    }
                    double secs = (System.nanoTime() - t0) / 1e9;
                    var lp = MixtureStats.meanLogDensity(m, x);
                    Row r = new Row(name, preset, nfe, probe.evaluations(), steps, SlicedWasserstein.sw2(x, truth, m.dim()), floor,
                            lp.mean() - exact.mean(), Math.hypot(lp.standardError(), exact.standardError()), secs);
                    rows.add(r);
                    log.printf(Locale.ROOT, "  %-10s %-20s NFE %5d  SW2 %.4f (floor %.4f)  dlogp %+.4f +- %.4f  %.1fs%n", preset, name, r.nfe(),
                            r.sw2(), r.floor(), r.logpGap(), r.logpSe(), secs);
                }
            }
        }
        return rows;
    }

    /**
     * Endpoint RMS error from one fixed x_T against the same sampler at {@code referenceNfe}, at NFE, 2 NFE, 4 NFE, ...
     * The order is log2(err(N) / err(2N)) at the last pair.
     */
    public Order order(String name, String preset, int[] nfes, int referenceNfe) {
        GaussianMixture m = MixturePresets.byName(preset);
        int rows = Math.min(n, 1000);
        int refSteps = stepsFor(name, referenceNfe);
        float[] ref = null;
        while (ref == null) {
            try {
                ref = sample(name, refSteps, m, seed + 7, rows);
            } catch (IllegalArgumentException tooMany) { // e.g. DDIM cannot take more steps than the 1000 training steps
                if (refSteps <= 1) throw tooMany;
                refSteps /= 2;
            }
        }
        double[] err = new double[nfes.length];
        int[] actual = new int[nfes.length];
        for (int i = 0; i < nfes.length; i++) {
            int steps = stepsFor(name, nfes[i]);
            actual[i] = factory.apply(name, Samplers.Options.defaults(steps)).evaluations();
            float[] x = sample(name, steps, m, seed + 7, rows);
            double e = 0;
            for (int j = 0; j < x.length; j++) e += (x[j] - ref[j]) * (double) (x[j] - ref[j]);
            err[i] = Math.sqrt(e / x.length);
        }
        int k = nfes.length - 1;
        double order = Math.log(err[k - 1] / err[k]) / Math.log((double) actual[k] / actual[k - 1]);
        log.printf(Locale.ROOT, "  order %-14s %-8s errors %s -> %.2f%n", name, preset, java.util.Arrays.toString(err), order);
        return new Order(name, preset, actual, err, order);
    }

    /** The accuracy table as Markdown. */
    public static String markdown(Device device, int n, List<Row> rows, int[] nfes) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Sampler accuracy on exact Gaussian mixtures\n\n");
        sb.append("Generated by `diffuse eval-samplers` on ").append(device.name()).append(" with ").append(n)
                .append(" samples per cell. Regenerate with the same command; do not edit by hand.\n\n");
        sb.append("Each cell: sliced-W2 to 20,000 exact samples / gap in mean exact log-density (nats, generated minus exact). ")
                .append("The last column is the sliced-W2 of exact samples against exact samples at the same sizes: the noise floor below ")
                .append("which SW2 differences mean nothing (see [measuring-samplers.md](measuring-samplers.md)). NFE = network evaluations; a sampler ")
                .append("whose step needs several evaluations runs the largest whole number of steps that fits.\n\n");
        for (String preset : rows.stream().map(Row::preset).distinct().toList()) {
            sb.append("## ").append(preset).append("\n\n| sampler |");
            for (int nfe : nfes) sb.append(" NFE ").append(nfe).append(" |");
            sb.append(" floor |\n|---|");
            for (int i = 0; i <= nfes.length; i++) sb.append("---|");
            sb.append('\n');
            for (String name : rows.stream().filter(r -> r.preset().equals(preset)).map(Row::sampler).distinct().toList()) {
                sb.append("| ").append(name).append(" |");
                double floor = 0;
                for (int nfe : nfes) {
                    Row r = rows.stream().filter(x -> x.preset().equals(preset) && x.sampler().equals(name) && x.requestedNfe() == nfe)
                            .findFirst().orElse(null);
                    if (r == null) sb.append(" - |");
                    else {
                        sb.append(String.format(Locale.ROOT, " %.3f / %+.2f%s |", r.sw2(), r.logpGap(), r.nfe() != nfe ? " (" + r.nfe() + ")" : ""));
                        floor = r.floor();
                    }
                }
                sb.append(String.format(Locale.ROOT, " %.3f |%n", floor));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** The empirical orders of the deterministic samplers as Markdown. */
    public static String ordersMarkdown(Device device, List<Order> orders) {
        StringBuilder sb = new StringBuilder("# Empirical order of the deterministic samplers\n\nGenerated by `diffuse eval-samplers` on ")
                .append(device.name()).append(". Regenerate with `diffuse eval-samplers --no-table`; do not edit by hand.\n\n");
        sb.append("Endpoint RMS error from one fixed x_T (1000 points) against the same solver at many steps, so no sampling ")
                .append("noise enters; order = log(err(N) / err(2N)) / log(NFE ratio) at the last pair. The uniform-in-t grid of the VP ")
                .append("solvers is stiff near t = 0, which holds their order below the textbook value at these step sizes ")
                .append("([measuring-samplers.md](measuring-samplers.md) saw the same).\n\n| solver | preset | NFE | error | order |\n|---|---|---|---|---|\n");
        for (Order o : orders) {
            StringBuilder nf = new StringBuilder(), er = new StringBuilder();
            for (int i = 0; i < o.nfe().length; i++) {
                nf.append(i == 0 ? "" : ", ").append(o.nfe()[i]);
                er.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.2e", o.error()[i]));
            }
            sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %.2f |%n", o.sampler(), o.preset(), nf, er, o.order()));
        }
        return sb.toString();
    }
}
