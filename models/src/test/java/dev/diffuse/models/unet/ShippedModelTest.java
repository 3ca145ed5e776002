package dev.diffuse.models.unet;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import dev.diffuse.models.data.Dataset;
import dev.diffuse.models.data.FashionMnist;
import dev.diffuse.runtime.Philox;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.samplers.schedule.DiscreteSchedule;

/**
 * The Fashion-MNIST model shipped in pretrained/ loads as a diffusers folder and is a trained denoiser: on noised
 * test images its epsilon prediction correlates with the true noise far beyond chance (an untrained network scores ~0).
 */
class ShippedModelTest {
    static final Path DIR = Path.of("..", "pretrained", "fashion-mnist-small");

    @Test
    void shippedModelPredictsTheNoiseOfNoisedTestImages() throws Exception {
        assertTrue(Files.exists(DIR.resolve("config.json")), "the shipped model folder " + DIR.toAbsolutePath() + " is missing");
        assertTrue(Files.size(DIR.resolve(UNetCheckpoint.WEIGHTS)) <= 12L << 20, "the shipped weights must stay within 12 MB");
        Dataset test = FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST);
        int n = 8, per = 28 * 28;
        float[] x0 = new float[n * per], labels = new float[n], eps = new float[n * per], xt = new float[n * per];
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) idx[i] = 1000 * i;
        test.fill(idx, x0, labels);
        Philox.normals(11, 0, 0, eps, 0, eps.length);
        DiscreteSchedule s = DiscreteSchedule.ddpmDefault();
        int t = 300;
        double a = Math.sqrt(s.alphaBar(t)), b = Math.sqrt(1 - s.alphaBar(t));
        for (int i = 0; i < xt.length; i++) xt[i] = (float) (a * x0[i] + b * eps[i]);
        float[] pred;
        try (UNet2DModel m = UNetCheckpoint.load(DIR, TestDevices.java(), n, false);
             Tensor x = Tensor.of(TestDevices.java(), xt, n, 1, 28, 28); Tensor ts = Tensor.allocate(TestDevices.java(), n);
             Tensor out = Tensor.allocate(TestDevices.java(), n, 1, 28, 28)) {
            dev.diffuse.kernels.elementwise.Elementwise.fill(ts, t);
            m.forward(out, x, ts, null);
            pred = out.toArray();
        }
        double dot = 0, pp = 0, ee = 0;
        for (int i = 0; i < pred.length; i++) {
            assertTrue(Float.isFinite(pred[i]));
            dot += pred[i] * eps[i];
            pp += pred[i] * pred[i];
            ee += eps[i] * eps[i];
        }
        double corr = dot / Math.sqrt(pp * ee); // measured 0.9858 for the shipped fine-tuned weights (step 1800 + 4000), 0.983 for the step-1800 ones (0.980 at step 900, 0.978 at 600)
        System.out.printf("shipped model: correlation of predicted and true noise at t = 300: %.4f%n", corr);
        assertTrue(corr > 0.9, "correlation of predicted and true noise at t = 300: " + corr);
    }
}
