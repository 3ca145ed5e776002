package dev.diffuse.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

import dev.diffuse.cli.plot.PngFiles;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Devices;
import dev.diffuse.samplers.Samplers;
import dev.diffuse.samplers.eval.SamplerEvaluation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code diffuse eval-samplers}: the sampler accuracy table on the exact mixtures, written as Markdown. */
@Command(name = "eval-samplers", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Measure every sampler on the exact Gaussian-mixture presets at a ladder of network evaluations and "
                + "write the accuracy table (docs/sampler-accuracy.md).")
public final class EvalSamplersCommand implements Callable<Integer> {
    @Option(names = "--samplers", split = ",", description = "samplers to measure (default: all registered)")
    List<String> samplers;

    @Option(names = "--presets", split = ",", defaultValue = "ring8,aniso2d,gmm16d", description = "mixture presets (default ${DEFAULT-VALUE})")
    List<String> presets;

    @Option(names = "--nfe", split = ",", defaultValue = "5,10,20,50,100,1000", description = "network evaluations (default ${DEFAULT-VALUE})")
    int[] nfe;

    @Option(names = "--n", defaultValue = "4000", description = "samples per cell (default ${DEFAULT-VALUE})")
    int n;

    @Option(names = "--seed", defaultValue = "0")
    long seed;

    @Option(names = "--device", defaultValue = "auto", description = "auto | java | cl | cl:gpu | cl:cpu | cl:P:I")
    String device;

    @Option(names = "--out", defaultValue = "docs/sampler-accuracy.md", description = "Markdown accuracy table (default ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--orders-out", defaultValue = "docs/sampler-orders.md", description = "Markdown solver orders (default ${DEFAULT-VALUE})")
    Path ordersOut;

    @Option(names = "--no-table", description = "skip the accuracy table (orders only)")
    boolean noTable;

    @Override
    public Integer call() throws Exception {
        for (int v : nfe)
            if (v < 1) throw new IllegalArgumentException("--nfe values must be at least 1 network evaluation, got " + v);
        if (n < 2) throw new IllegalArgumentException("--n must be at least 2 samples per cell, got " + n);
        Device d = Devices.select(device);
        List<String> names = samplers != null ? samplers : Samplers.NAMES;
        for (String s : names) Samplers.create(s, Samplers.Options.defaults(10)); // fail fast on unknown names
        System.out.println("device: " + d.id() + "  " + d.name());
        var eval = new SamplerEvaluation(d, Samplers::create, n, seed, System.out);
        if (!noTable) {
            var rows = eval.table(names, presets, nfe);
            String md = SamplerEvaluation.markdown(d, n, rows, Arrays.stream(nfe).toArray());
            PngFiles.writeAtomically(out, tmp -> Files.writeString(tmp, md));
            System.out.println("wrote " + out);
        }
        List<SamplerEvaluation.Order> orders = new ArrayList<>();
        for (String s : names)
            if (Samplers.create(s, Samplers.Options.defaults(10)).deterministic()) {
                try {
                    orders.add(eval.order(s, "ring8", new int[]{40, 80, 160}, 8000));
                } catch (IllegalArgumentException e) {
                    System.out.println("  no order for " + s + ": " + e.getMessage());
                }
            }
        String om = SamplerEvaluation.ordersMarkdown(d, orders);
        PngFiles.writeAtomically(ordersOut, tmp -> Files.writeString(tmp, om));
        System.out.println("wrote " + ordersOut);
        return 0;
    }
}
