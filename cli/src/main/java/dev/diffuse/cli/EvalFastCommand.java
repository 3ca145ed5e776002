package dev.diffuse.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.models.train.NetworkDenoiser;
import dev.diffuse.models.train.TrainableModel;
import dev.diffuse.models.unet.UNet2DModel;
import dev.diffuse.models.unet.UNetCheckpoint;
import dev.diffuse.models.vae.AutoencoderKL;
import dev.diffuse.models.vae.LatentSpace;
import dev.diffuse.pipeline.eval.PixelSlicedW2;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Devices;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.Samplers;
import dev.diffuse.samplers.schedule.DiscreteSchedule;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code diffuse eval-fast}: the fast-sampling table of docs/fast-sampling.md, measured in one run: pixel DDIM-25, latent
 * DDIM-25 (decoding included) and the distilled student's 1/2/4 steps (plus pixel DDIM at 2 and 4 steps for context):
 * network FLOPs per image, time per 64 images (median of interleaved rounds), pixel-space sliced-W2 to the test set
 * beside its floor, and a sample grid per row.
 */
@Command(name = "eval-fast", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Measure pixel DDIM-25, latent DDIM-25 and distilled 1/2/4-step students in one run: FLOPs, time per 64 images, "
                + "sliced-W2 to the test set with its floor; writes a markdown table and sample grids.")
public final class EvalFastCommand implements Callable<Integer> {
    @Option(names = "--pixel", defaultValue = "pretrained/fashion-mnist-small", description = "pixel-space epsilon model (default ${DEFAULT-VALUE})")
    Path pixel;
    @Option(names = "--latent", description = "latent-space epsilon model (a folder with latent.json)") Path latent;
    @Option(names = "--student", description = "distilled consistency student (objective consistency_ddpm)") Path student;
    @Option(names = "--n", defaultValue = "64", description = "images per row (default ${DEFAULT-VALUE})") int n;
    @Option(names = "--rounds", defaultValue = "3", description = "timing rounds after a warm-up round, interleaved over the rows; 0: one "
            + "untimed pass for the distances only, e.g. with a large --n (default ${DEFAULT-VALUE})") int rounds;
    @Option(names = "--seed", defaultValue = "0") long seed;
    @Option(names = "--reference", defaultValue = "fashion-mnist:test") String reference;
    @Option(names = "--device", defaultValue = "auto") String device;
    @Option(names = "--grids", description = "folder for one sample grid per row") Path grids;
    @Option(names = "--out", description = "also write the markdown table to this file") Path out;

    /** One measured configuration: a label, its cost and how to make n images. */
    private record Row(String label, String file, int evaluations, double flopsPerImage, Run run) {}

    private interface Run { float[] images() throws IOException; }

    @Override
    public Integer call() throws Exception {
        if (n < 2 || rounds < 0) throw new IllegalArgumentException("--n must be >= 2 and --rounds >= 0");
        Device d = Devices.select(device);
        int mb = Math.min(n, 64);
        List<AutoCloseable> open = new ArrayList<>();
        List<Row> rows = new ArrayList<>();
        try {
            TrainableModel px = track(open, Models.load(pixel, d, mb));
            double pxFlops = UNet2DModel.forwardFlops(((UNet2DModel) px).config(), 1);
            for (int steps : new int[]{25, 4, 2})
                rows.add(row(open, "pixel DDIM-" + steps, "pixel-ddim" + steps, px, ModelObjective.epsilon(), "ddim", steps, true, pxFlops, null, null, d));
            if (latent != null) {
                Path dir = Models.resolve(latent);
                LatentSpace space = LatentSpace.read(dir);
                if (space == null) throw new IllegalArgumentException("--latent " + dir + " has no " + LatentSpace.FILE + "; it is not a latent model");
                TrainableModel lm = track(open, Models.load(dir, d, mb));
                AutoencoderKL vae = track(open, space.loadVae(dir, d, mb));
                double f = UNet2DModel.forwardFlops(((UNet2DModel) lm).config(), 1);
                double dec = AutoencoderKL.forwardFlops(vae.config(), 1)[1];
                rows.add(row(open, "latent DDIM-25", "latent-ddim25", lm, ModelObjective.epsilon(), "ddim", 25, false, f, space, vae, d, dec));
            }
            if (student != null) {
                Path dir = Models.resolve(student);
                ModelObjective obj = ModelObjective.read(UNetCheckpoint.modelFolder(dir));
                if (obj.kind() != ModelObjective.Kind.CONSISTENCY_DDPM)
                    throw new IllegalArgumentException("--student " + dir + " is a " + obj.label() + " model, not a distilled consistency model");
                TrainableModel sm = track(open, Models.load(dir, d, mb));
                double f = UNet2DModel.forwardFlops(((UNet2DModel) sm).config(), 1);
                for (int steps : new int[]{1, 2, 4})
                    rows.add(row(open, "student " + steps + " step" + (steps > 1 ? "s" : ""), "student-" + steps + "step", sm, obj, "consistency", steps, true, f, null, null, d));
            }
            measure(rows);
        } finally {
            for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
        }
        return 0;
    }

    private static <T extends AutoCloseable> T track(List<AutoCloseable> open, T t) {
        open.add(t);
        return t;
    }

    private Row row(List<AutoCloseable> open, String label, String file, TrainableModel net, ModelObjective obj, String sampler, int steps,
                    boolean clip, double netFlops, LatentSpace space, AutoencoderKL vae, Device d) {
        return row(open, label, file, net, obj, sampler, steps, clip, netFlops, space, vae, d, 0);
    }

    private Row row(List<AutoCloseable> open, String label, String file, TrainableModel net, ModelObjective obj, String sampler, int steps,
                    boolean clip, double netFlops, LatentSpace space, AutoencoderKL vae, Device d, double decodeFlops) {
        Sampler s = ModelSamplers.create(obj, sampler, new Samplers.Options(steps, 0, "linear", clip, 0.01, 80, 0.01, 1));
        NetworkDenoiser den = track(open, ModelSamplers.denoiser(net, obj, DiscreteSchedule.ddpmDefault(), -1));
        int[] shape = dev.diffuse.models.unet.Graph.withBatch(n, net.sampleShape());
        Run run = () -> {
            try (Workspace ws = new Workspace(d, "eval-fast", 8L * Tensor.numel(shape) + (16 << 20))) {
                Tensor x = s.sample(den, ws, seed, shape);
                return space == null ? x.toArray() : space.decode(vae, x);
            }
        };
        return new Row(label, file, s.evaluations(), s.evaluations() * netFlops + decodeFlops, run);
    }

    /** Interleaved rounds (the first is also a warm-up), medians, distances, grids and the table. */
    private void measure(List<Row> rows) throws IOException {
        double[][] times = new double[rows.size()][rounds + 1];
        float[][] images = new float[rows.size()][];
        for (int r = 0; r <= Math.max(rounds, 0); r++)
            for (int i = 0; i < rows.size(); i++) {
                long t0 = System.nanoTime();
                images[i] = rows.get(i).run().images();
                times[i][r] = (System.nanoTime() - t0) / 1e9;
                System.out.printf(Locale.ROOT, "round %d  %-18s %.2f s%n", r, rows.get(i).label(), times[i][r]);
            }
        StringBuilder t = new StringBuilder();
        t.append(String.format(Locale.ROOT, "| sampler | evaluations | network GFLOP per image | time per 64 images | speed-up (time / FLOPs) "
                + "| sliced-W2 to %d test images (floor) |%n|---|---|---|---|---|---|%n", n));
        double baseTime = 0, baseFlops = rows.get(0).flopsPerImage();
        for (int i = 0; i < rows.size(); i++) {
            Row row = rows.get(i);
            PixelSlicedW2.Result d = PixelSlicedW2.compute(images[i], n, images[i].length / n, reference, null);
            double[] sw = {d.sw2(), d.floor()};
            if (rounds == 0) {
                t.append(String.format(Locale.ROOT, "| %s | %d | %.2f | - | - / %.1fx | %.3f (%.3f) |%n", row.label(), row.evaluations(),
                        row.flopsPerImage() / 1e9, baseFlops / row.flopsPerImage(), sw[0], sw[1]));
            } else {
                double[] tr = Arrays.copyOfRange(times[i], 1, rounds + 1);
                Arrays.sort(tr);
                double per64 = tr[tr.length / 2] * 64.0 / n;
                if (i == 0) baseTime = per64;
                t.append(String.format(Locale.ROOT, "| %s | %d | %.2f | %.1f s | %.1fx / %.1fx | %.3f (%.3f) |%n", row.label(), row.evaluations(),
                        row.flopsPerImage() / 1e9, per64, baseTime / per64, baseFlops / row.flopsPerImage(), sw[0], sw[1]));
            }
            if (grids != null) {
                int side = (int) Math.round(Math.sqrt(images[i].length / n));
                Files.createDirectories(grids);
                dev.diffuse.models.data.ImageGrid.write(grids.resolve("fast-" + row.file() + ".png"), images[i], n, 1, side, side, 8);
            }
        }
        System.out.println();
        System.out.print(t);
        if (out != null) Files.writeString(out, t.toString());
    }
}
