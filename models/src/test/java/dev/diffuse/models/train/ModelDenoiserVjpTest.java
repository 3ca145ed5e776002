package dev.diffuse.models.train;

import org.junit.jupiter.api.Test;

import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.samplers.Denoiser;

/** The model denoiser's vector-Jacobian product (through the model's backward) against finite differences. */
class ModelDenoiserVjpTest {
    @Test
    void vjpMatchesFiniteDifferencesOnBothDevicesAndAcrossChunks() {
        for (Device d : new Device[]{TestDevices.java(), TestDevices.openCl()}) {
            int n = 5, dim = 3; // maxBatch 2 below: three chunks
            try (MlpModel m = new MlpModel(d, MlpModel.Config.defaults(new int[]{dim}, 0), 2, 7);
                 ModelDenoiser den = new ModelDenoiser(m)) {
                float[] x = Close.randn(1, n * dim), v = Close.randn(2, n * dim);
                var level = new Denoiser.NoiseLevel(0.8, 0.6, 400);
                float[] got;
                try (Tensor tx = Tensor.of(d, x, n, dim); Tensor tv = Tensor.of(d, v, n, dim); Tensor out = Tensor.allocate(d, n, dim)) {
                    den.vjp(out, tx, level, tv);
                    got = out.toArray();
                }
                // (J^T v)_j = d/dx_j (v . eps(x)), central differences with the sum in double
                double h = 1e-2;
                float[] fd = new float[n * dim];
                for (int j = 0; j < n * dim; j++) {
                    float[] xp = x.clone(), xm = x.clone();
                    xp[j] += (float) h;
                    xm[j] -= (float) h;
                    fd[j] = (float) ((dot(v, eval(den, d, xp, n, dim, level)) - dot(v, eval(den, d, xm, n, dim, level))) / (2 * h));
                }
                Close.assertClose(fd, got, 2e-3, 2e-2, "vjp vs finite differences on " + d.id());
            }
        }
    }

    private static float[] eval(ModelDenoiser den, Device d, float[] x, int n, int dim, Denoiser.NoiseLevel level) {
        try (Tensor tx = Tensor.of(d, x, n, dim); Tensor out = Tensor.allocate(d, n, dim)) {
            den.predict(out, tx, level);
            return out.toArray();
        }
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
        return s;
    }
}
