package dev.diffuse.pipeline.eval;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

import dev.diffuse.models.data.Dataset;
import dev.diffuse.models.train.ModelDenoiser;
import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.models.unet.UNet2DModel;
import dev.diffuse.models.unet.UNetCheckpoint;
import dev.diffuse.models.unet.UNetConfig;
import dev.diffuse.pipeline.ModelFolders;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Philox;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.likelihood.ProbabilityFlowLikelihood;
import dev.diffuse.samplers.schedule.VpSde;

/**
 * The likelihood of images computed in ranges (as the Spark job splits a test set) is the likelihood of one run, image
 * by image and bit for bit, and one run is what {@code diffuse likelihood} computed before ranges existed.
 */
class ImageLikelihoodTest {
    @TempDir
    Path dir;
    final Device java = TestDevices.java();

    /** n random 2x8x8 "images" on the pixel grid ((p + 0.5) / 127.5 - 1 with p in 0..255), labelled 0. */
    static Dataset pixels(int n) {
        float[] all = new float[n * 128];
        for (int i = 0; i < all.length; i++) all[i] = (float) (Philox.uint32(5, 0, i) % 256) / 127.5f - 1;
        return new Dataset() {
            public String description() { return "test pixels"; }
            public int size() { return n; }
            public int[] sampleShape() { return new int[]{2, 8, 8}; }
            public int numClasses() { return 0; }
            public void fill(int[] indices, float[] batch, float[] labels) {
                checkFill(indices, batch, labels);
                for (int i = 0; i < indices.length; i++) System.arraycopy(all, indices[i] * 128, batch, i * 128, 128);
            }
        };
    }

    static Path tinyModel(Path dir) throws Exception {
        Files.createDirectories(dir);
        try (UNet2DModel m = new UNet2DModel(UNetConfig.tiny().withNumClassEmbeds(null), JavaDevice.get(), 1, false)) {
            m.initialize(23);
            UNetCheckpoint.save(m, dir);
        }
        ModelObjective.epsilon().write(dir);
        return dir;
    }

    static List<Device> devices() { return List.of(TestDevices.java(), TestDevices.openCl()); }

    @ParameterizedTest
    @MethodSource("devices")
    void rangesGiveEachImageItsValueInOneRunAndOneRunIsTheCliComputationOfBefore(Device device) throws Exception {
        Path model = tinyModel(dir.resolve("tiny"));
        Dataset data = pixels(7);
        var s = new ImageLikelihood.Settings(3, ProbabilityFlowLikelihood.Trace.HUTCHINSON, ProbabilityFlowLikelihood.Grid.SQRT, 11);
        int n = 9; // more than the data: images 7 and 8 are data images 0 and 1 with other dequantisation noise and probes
        float[] whole;
        try (ImageLikelihood lik = ImageLikelihood.load(model, device, 4)) {
            whole = lik.logDensity(data, 0, n, s);
        }
        // diffuse likelihood's computation as it was written before ranges: one shared seed for the probes
        float[] before;
        try (var net = ModelFolders.load(model, device, 4, true); var den = new ModelDenoiser(net)) {
            float[] x = new float[n * 128], labels = new float[n];
            int[] idx = new int[n];
            for (int i = 0; i < n; i++) idx[i] = i % data.size();
            data.fill(idx, x, labels);
            for (int i = 0; i < x.length; i++) x[i] += Philox.uniform(11, 1, i) / 127.5f;
            try (Workspace ws = new Workspace(device, "likelihood", 16L * x.length * 4 + (64L << 20))) {
                Tensor x0 = ws.tensor(n, 2, 8, 8), out = ws.tensor(n);
                x0.upload(x);
                new ProbabilityFlowLikelihood(VpSde.standard(), 3, s.trace(), s.grid()).logDensity(out, den, x0, 3, ws);
                before = out.toArray();
            }
        }
        assertBits(before, whole, device.id() + ": one run = the CLI's computation of before");
        assertNotEquals(whole[0], whole[7], "image 7 (data image 0 again) has its own noise");
        // ranges, in another batch size
        try (ImageLikelihood lik = ImageLikelihood.load(model, device, 3)) {
            for (int[] r : new int[][]{{5, 9}, {0, 2}, {2, 5}}) {
                float[] got = lik.logDensity(data, r[0], r[1] - r[0], s);
                assertBits(Arrays.copyOfRange(whole, r[0], r[1]), got, device.id() + ": images " + r[0] + ".." + r[1] + " as a range");
            }
        }
        double bpd = ImageLikelihood.bitsPerDim(whole, 128);
        assertTrue(Double.isFinite(bpd) && bpd > 0, "bits/dim " + bpd);
    }

    @Test
    void aFlowModelOrAWrongShapeIsRefusedWithItsReason() throws Exception {
        Path model = tinyModel(dir.resolve("tiny"));
        ModelObjective.flow().write(model);
        var flow = assertThrows(IllegalArgumentException.class, () -> ImageLikelihood.load(model, java, 2));
        assertTrue(flow.getMessage().contains("epsilon-prediction"), flow.getMessage());
        Path eps = tinyModel(dir.resolve("eps"));
        try (ImageLikelihood lik = ImageLikelihood.load(eps, java, 2)) {
            Dataset wrong = new Dataset() {
                public String description() { return "vectors"; }
                public int size() { return 3; }
                public int[] sampleShape() { return new int[]{2}; }
                public int numClasses() { return 0; }
                public void fill(int[] indices, float[] batch, float[] labels) {}
            };
            var e = assertThrows(IllegalArgumentException.class, () -> lik.logDensity(wrong, 0, 1, ImageLikelihood.Settings.defaults()));
            assertTrue(e.getMessage().contains("the model takes [2, 8, 8]"), e.getMessage());
        }
    }

    static void assertBits(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++)
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]), what + ": image " + i + " " + actual[i] + " vs " + expected[i]);
    }
}
