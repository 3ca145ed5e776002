package dev.diffuse.models.train;

import org.junit.jupiter.api.Test;

import dev.diffuse.models.consistency.ConsistencyDenoiser;
import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.samplers.Denoiser;

/**
 * More rows than the model's maxBatch, with rows of 3 floats: chunks then start at offsets no OpenCL device accepts as
 * sub-buffers (36 bytes), so the denoisers must stage them (strict mode would refuse the views). OpenCL matches Java.
 */
class ChunkedDenoisersTest {
    private static final int N = 7, PER = 3, MAX_BATCH = 3;

    private static float[] flow(Device d, float[] xs, float[] labels) {
        try (MlpModel m = new MlpModel(d, new MlpModel.Config(new int[]{PER}, 16, 2, 8, 4), MAX_BATCH, 5);
             FlowModelDenoiser den = new FlowModelDenoiser(m);
             Tensor x = Tensor.of(d, xs, N, PER); Tensor y = Tensor.of(d, labels, N); Tensor out = Tensor.allocate(d, N, PER)) {
            den.predict(out, x, y, new Denoiser.NoiseLevel(0.6, 0.4, 0.6));
            return out.toArray();
        }
    }

    private static float[] consistency(Device d, float[] xs) {
        try (MlpModel m = new MlpModel(d, new MlpModel.Config(new int[]{PER}, 16, 2, 8, 0), MAX_BATCH, 6);
             ConsistencyDenoiser den = new ConsistencyDenoiser(m, 0.002, 0.5);
             Tensor x = Tensor.of(d, xs, N, PER); Tensor out = Tensor.allocate(d, N, PER)) {
            den.predict(out, x, new Denoiser.NoiseLevel(1, 0.7, 0));
            return out.toArray();
        }
    }

    @Test
    void flowDenoiserWithPerRowLabelsChunksOnOpenCl() {
        float[] xs = Close.randn(3, N * PER), labels = {0, 1, 2, 3, 2, 1, 0};
        Close.assertClose(flow(TestDevices.java(), xs, labels), flow(TestDevices.openCl(), xs, labels), 1e-5, 1e-4, "flow");
    }

    @Test
    void consistencyDenoiserChunksOnOpenCl() {
        float[] xs = Close.randn(4, N * PER);
        Close.assertClose(consistency(TestDevices.java(), xs), consistency(TestDevices.openCl(), xs), 1e-5, 1e-4, "consistency");
    }
}
