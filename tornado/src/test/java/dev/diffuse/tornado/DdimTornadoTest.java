package dev.diffuse.tornado;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import dev.diffuse.models.train.ModelDenoiser;
import dev.diffuse.models.unet.UNet2DModel;
import dev.diffuse.models.unet.UNetCheckpoint;
import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Samplers;
import dev.diffuse.samplers.pipeline.DdimSampler;
import dev.diffuse.samplers.schedule.DiscreteSchedule;

/**
 * End to end: DDIM on the shipped Fashion-MNIST U-Net through TornadoVM kernels gives the images the Java device gives
 * (same seed, same noise). One compiled plan runs both settings: the CLI's default (25 steps, eta 0, x0 clipped to
 * [-1, 1]) and 10 steps of eta = 1 without clipping, where every step draws noise in the update kernel.
 */
class DdimTornadoTest {
    /** Images are in [-1, 1]; measured max differences: 1.3e-6 (25 steps, eta 0, clipped) and 1.8e-5 (10 steps, eta 1). */
    static final double PIXEL_TOLERANCE = 1e-4;
    static final int N = 2, STEPS = 25;

    static Path shippedModel() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path m = p.resolve("pretrained").resolve("fashion-mnist-small");
            if (Files.exists(p.resolve("pom.xml")) && Files.isDirectory(m)) return m;
        }
        throw new IllegalStateException("no pretrained/fashion-mnist-small above " + Path.of("").toAbsolutePath());
    }

    static DdimSampler ddim(int steps, double eta, boolean clip) {
        return (DdimSampler) Samplers.create("ddim", new Samplers.Options(steps, eta, "linear", clip, 0.01, 80, 0.01, 1));
    }

    static float[] sampleOn(Device d, UNet2DModel model, DdimSampler s, long seed) {
        try (ModelDenoiser den = new ModelDenoiser(model, DiscreteSchedule.ddpmDefault()); Workspace ws = new Workspace(d, "ddim test", 64L << 20)) {
            return s.sample(den, ws, seed, N, 1, 28, 28).toArray();
        }
    }

    @Test
    void shippedModelSamplesLikeTheJavaDevice() throws Exception {
        Path dir = shippedModel();
        Device j = TestDevices.java();
        try (UNet2DModel model = UNetCheckpoint.load(dir, j, N, false);
             DdimTornado tv = new DdimTornado(model.config(), ParamPack.weightsOf(model), DiscreteSchedule.ddpmDefault(), N, STEPS)) {
            for (Object[] c : new Object[][]{{STEPS, 0.0, true, 0L}, {10, 1.0, false, 5L}}) {
                DdimSampler s = ddim((int) c[0], (double) c[1], (boolean) c[2]);
                long seed = (long) c[3];
                float[] expected = sampleOn(j, model, s, seed), got = tv.sample(s, seed, -1);
                double max = 0;
                for (int i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i] - expected[i]));
                String what = String.format("DDIM %d steps, eta %s, clip %s, seed %d, %d images: max |TornadoVM - Java| = %.3g",
                        c[0], c[1], c[2], seed, N, max);
                System.out.println(what + " (" + tv.taskCount() + " tasks)");
                Close.assertClose(expected, got, PIXEL_TOLERANCE, 0, what);
            }
        }
    }
}
