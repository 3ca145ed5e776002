package dev.diffuse.tornado.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import dev.diffuse.models.data.ImageGrid;
import dev.diffuse.models.train.ModelDenoiser;
import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.models.unet.UNet2DModel;
import dev.diffuse.models.unet.UNetCheckpoint;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Samplers;
import dev.diffuse.samplers.pipeline.DdimSampler;
import dev.diffuse.samplers.schedule.DiscreteSchedule;
import dev.diffuse.tornado.DdimTornado;
import dev.diffuse.tornado.ParamPack;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code diffuse sample --device tornado --model DIR}: DDIM on a diffusers UNet2DModel folder with every kernel run
 * through TornadoVM ({@link DdimTornado}); same options, seed semantics and output grid as the usual {@code sample}.
 */
@Command(name = "sample", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Sample an epsilon-prediction UNet2DModel folder with DDIM, every kernel run through TornadoVM.")
public final class TornadoSampleCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "a diffusers UNet2DModel folder (or a pipeline folder with unet/)")
    Path model;

    @Option(names = "--sampler", defaultValue = "ddim", description = "ddim (the sampler the TornadoVM executor runs)")
    String sampler;

    @Option(names = "--steps", defaultValue = "25", description = "DDIM steps (default ${DEFAULT-VALUE}, as diffuse sample for a ddim model)")
    int steps;

    @Option(names = "--n", defaultValue = "16", description = "number of images, sampled as one batch (default ${DEFAULT-VALUE}; "
            + "on a CPU OpenCL device TornadoVM takes about 0.4 s per image and step)")
    int n;

    @Option(names = "--seed", defaultValue = "0", description = "RNG seed; the same seed gives the same images as --device java or cl")
    long seed;

    @Option(names = "--eta", defaultValue = "0", description = "DDIM eta (default ${DEFAULT-VALUE})")
    double eta;

    @Option(names = "--beta-schedule", defaultValue = "linear", description = "linear | scaled_linear | cosine")
    String betaSchedule;

    @Option(names = "--no-clip", description = "do not clip the predicted x0 to [-1, 1]")
    boolean noClip;

    @Option(names = "--class", defaultValue = "-1", description = "class-conditional models: the class to draw (default: image k gets class k mod classes)")
    int classLabel;

    @Option(names = "--device", defaultValue = "tornado", description = "tornado (this executor)")
    String device;

    @Option(names = "--check-java", description = "also sample on the Java device and print the largest pixel difference")
    boolean checkJava;

    @Option(names = "--out", defaultValue = "samples.png", description = "PNG grid (default ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() throws IOException {
        if (!device.equals("tornado"))
            throw new IllegalArgumentException("this is the TornadoVM executor (--device tornado); for --device " + device + " run diffuse without it");
        if (!sampler.equals("ddim"))
            throw new IllegalArgumentException("--device tornado runs --sampler ddim (the sampler the TornadoVM executor implements end to end), not " + sampler);
        if (n < 1) throw new IllegalArgumentException("--n must be at least 1, got " + n);
        if (steps < 1) throw new IllegalArgumentException("--steps must be at least 1, got " + steps);
        Path dir = UNetCheckpoint.modelFolder(model);
        ModelObjective objective = ModelObjective.read(dir);
        if (objective.kind() != ModelObjective.Kind.EPSILON)
            throw new IllegalArgumentException(model + " is a " + objective.label() + " model; --device tornado samples epsilon-prediction models with DDIM");
        if (checkJava && classLabel < 0 && UNetCheckpoint.readConfig(dir).numClassEmbeds() != null)
            throw new IllegalArgumentException("--check-java on a class-conditional model needs one --class for all images");
        DdimSampler s = (DdimSampler) Samplers.create("ddim", new Samplers.Options(steps, eta, betaSchedule, !noClip, 0.01, 80, 0.01, 1));
        DiscreteSchedule trained = DiscreteSchedule.ddpmDefault();
        System.out.println("device:  tornado  " + TornadoCommand.deviceName());
        try (UNet2DModel host = UNetCheckpoint.load(dir, JavaDevice.get(), 1, false)) {
            int[] shape = host.sampleShape();
            System.out.printf(Locale.ROOT, "model:   %s (%,d parameters, sample shape [%d, %d, %d], objective %s)%n", dir,
                    UNet2DModel.parameterCount(host.config()), shape[0], shape[1], shape[2], objective.label());
            float[] x;
            try (DdimTornado tv = new DdimTornado(host.config(), ParamPack.weightsOf(host), trained, n, steps)) {
                System.out.printf(Locale.ROOT, "sampler: ddim, %d steps, eta %s, %d images as one batch: %d TornadoVM tasks in %d graphs, %.1f MB on the device%n",
                        steps, eta, n, tv.taskCount(), tv.graphCount(), 4e-6 * tv.deviceFloats());
                long t0 = System.nanoTime();
                x = tv.sample(s, seed, classLabel);
                double secs = (System.nanoTime() - t0) / 1e9;
                System.out.printf(Locale.ROOT, "sampled: %d in %.1f s (first step %.1f s: TornadoVM compiles every task then; later steps %.2f s each)%n",
                        n, secs, tv.firstStepSeconds(), tv.laterStepSeconds());
            }
            ImageGrid.write(out, x, n, shape[0], shape[1], shape[2], (int) Math.ceil(Math.sqrt(n)));
            System.out.println("wrote " + out);
            if (checkJava) {
                float[] j;
                try (UNet2DModel jm = UNetCheckpoint.load(dir, JavaDevice.get(), Math.min(n, 64), false);
                     ModelDenoiser den = new ModelDenoiser(jm, trained).classLabel(classLabel);
                     Workspace ws = new Workspace(JavaDevice.get(), "sample", 8L * x.length + (16 << 20))) {
                    j = s.sample(den, ws, seed, n, shape[0], shape[1], shape[2]).toArray();
                }
                double max = 0;
                for (int i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - j[i]));
                System.out.printf(Locale.ROOT, "parity:  max |TornadoVM - Java device| over %d pixels = %.3g%n", x.length, max);
            }
        }
        return 0;
    }
}
