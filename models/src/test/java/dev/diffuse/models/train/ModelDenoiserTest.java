package dev.diffuse.models.train;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.samplers.Denoiser;

class ModelDenoiserTest {
    @Test
    void chunksOverMaxBatchAndConditions() {
        Device d = TestDevices.java();
        int n = 7;
        float[] xs = Close.randn(4, n * 2);
        try (MlpModel m = new MlpModel(d, new MlpModel.Config(new int[]{2}, 16, 2, 8, 3), 3, 2);
             ModelDenoiser den = new ModelDenoiser(m).classLabel(2);
             Tensor x = Tensor.of(d, xs, n, 2); Tensor out = Tensor.allocate(d, n, 2);
             Tensor one = Tensor.allocate(d, 1, 2); Tensor t = Tensor.of(d, new float[]{250}, 1); Tensor y = Tensor.of(d, new float[]{2}, 1)) {
            assertEquals(Denoiser.Prediction.EPSILON, den.prediction());
            // the denoiser conditions on the timestep whose noise level matches: here exactly t = 250
            double ab = dev.diffuse.samplers.schedule.DiscreteSchedule.ddpmDefault().alphaBar(250);
            den.predict(out, x, new Denoiser.NoiseLevel(Math.sqrt(ab), Math.sqrt(1 - ab), 250));
            float[] got = out.toArray();
            for (int i = 0; i < n; i++) {
                try (Tensor xi = Tensor.of(d, new float[]{xs[2 * i], xs[2 * i + 1]}, 1, 2)) {
                    m.forward(one, xi, t, y);
                    assertArrayEquals(one.toArray(), new float[]{got[2 * i], got[2 * i + 1]}, 1e-5f, "row " + i);
                }
            }
        }
    }
}
