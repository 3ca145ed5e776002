package dev.diffuse.samplers.gmm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.samplers.Denoiser.NoiseLevel;
import dev.diffuse.samplers.Denoiser.Prediction;

/** The device denoiser: Java path against the host definition, OpenCL against Java, parameterisation identities. */
class GaussianMixtureDenoiserTest {
    static final double[][] LEVELS = {{1, 0}, {1, 1e-3}, {0.8, 0.6}, {0.05, 0.9987}, {1, 80}};

    /** Points where a sampler evaluates the denoiser: exact samples of the noised mixture, plus a few outliers. */
    static float[] points(GaussianMixture m, double s, double sigma, int n) {
        float[] x = m.noised(s, sigma).sample(n, 17);
        float[] z = Close.randn(n, x.length);
        double spread = Math.sqrt(s * s + sigma * sigma);
        for (int i = 0; i < Math.min(x.length, 3 * m.dim()); i++) x[i] += (float) (0.5 * spread * z[i]); // off-mode rows
        return x;
    }

    @Test
    void javaDeviceMatchesHostDefinition() {
        GaussianMixture m = MixturePresets.aniso2d();
        int n = 300, d = 2;
        for (double[] lv : LEVELS) {
            float[] x = points(m, lv[0], lv[1], n);
            try (var den = new GaussianMixtureDenoiser(m, JavaDevice.get(), Prediction.SCORE);
                 Tensor tx = Tensor.of(JavaDevice.get(), x, n, d); Tensor out = Tensor.allocate(JavaDevice.get(), n, d);
                 Tensor lp = Tensor.allocate(JavaDevice.get(), n)) {
                den.predict(out, tx, new NoiseLevel(lv[0], lv[1], 0));
                den.logDensity(lp, tx, lv[0], lv[1]);
                float[] expected = new float[n * d], expectedLp = new float[n];
                for (int r = 0; r < n; r++) {
                    double[] row = {x[r * d], x[r * d + 1]};
                    double[] g = m.score(row, lv[0], lv[1]);
                    expected[r * d] = (float) g[0];
                    expected[r * d + 1] = (float) g[1];
                    expectedLp[r] = (float) m.logDensity(row, lv[0], lv[1]);
                }
                assertArrayEquals(expected, out.toArray());
                assertArrayEquals(expectedLp, lp.toArray());
            }
        }
    }

    /** x = s X0 + sigma EPS, and V, VELOCITY follow from X0 and EPS (checked in double-rounded float). */
    @Test
    void parameterisationsAreConsistent() {
        GaussianMixture m = MixturePresets.byName("gmm16d");
        int n = 50, d = 16;
        JavaDevice j = JavaDevice.get();
        for (double[] lv : new double[][]{{0.8, 0.6}, {0.3, 0.7}}) {
            double s = lv[0], sg = lv[1];
            float[] x = points(m, s, sg, n);
            float[][] r = new float[5][];
            try (var den = new GaussianMixtureDenoiser(m, j, Prediction.EPSILON); Tensor tx = Tensor.of(j, x, n, d);
                 Tensor out = Tensor.allocate(j, n, d)) {
                Prediction[] ps = {Prediction.EPSILON, Prediction.X0, Prediction.V, Prediction.VELOCITY, Prediction.SCORE};
                for (int p = 0; p < ps.length; p++) {
                    den.predict(out, tx, new NoiseLevel(s, sg, 0), ps[p]);
                    r[p] = out.toArray();
                }
            }
            double[] recon = new double[n * d], xs = new double[n * d], v = new double[n * d], vExp = new double[n * d],
                    fl = new double[n * d], flExp = new double[n * d], eps = new double[n * d], epsExp = new double[n * d];
            for (int i = 0; i < n * d; i++) {
                xs[i] = x[i];
                recon[i] = s * r[1][i] + sg * r[0][i];
                v[i] = r[2][i];
                vExp[i] = s * r[0][i] - sg * r[1][i];
                fl[i] = r[3][i];
                flExp[i] = r[1][i] - r[0][i];
                eps[i] = r[0][i];
                epsExp[i] = -sg * r[4][i];
            }
            Close.assertClose(xs, recon, 1e-5, 1e-5, "x = s x0 + sigma eps");
            Close.assertClose(vExp, v, 1e-5, 1e-5, "v = s eps - sigma x0");
            Close.assertClose(flExp, fl, 1e-5, 1e-5, "velocity = x0 - eps");
            Close.assertClose(epsExp, eps, 1e-6, 1e-6, "eps = -sigma score");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"ring8", "aniso2d", "gmm16d", "gmm64d"})
    void openClMatchesJava(String preset) {
        GaussianMixture m = MixturePresets.byName(preset);
        int d = m.dim();
        ClDevice cl = TestDevices.openCl();
        JavaDevice j = JavaDevice.get();
        try (var dj = new GaussianMixtureDenoiser(m, j, Prediction.EPSILON);
             var dc = new GaussianMixtureDenoiser(m, cl, Prediction.EPSILON)) {
            for (int n : new int[]{1, 7, 1001}) {
                for (double[] lv : LEVELS) {
                    float[] x = points(m, lv[0], lv[1], n);
                    String what = preset + " N=" + n + " s=" + lv[0] + " sigma=" + lv[1];
                    for (Prediction p : new Prediction[]{Prediction.EPSILON, Prediction.SCORE, Prediction.X0}) {
                        float[] ej = run(dj, j, x, n, d, lv, p), ec = run(dc, cl, x, n, d, lv, p);
                        double scale = 0, xmax = 0;
                        for (float v : ej) scale = Math.max(scale, Math.abs(v));
                        for (float v : x) xmax = Math.max(xmax, Math.abs(v));
                        // float rounding: ~1e-6 of the output's scale; X0 = (x + sigma^2 score)/s also cancels ~|x|/s
                        double atol = 2e-5 * scale + 1e-7 + (p == Prediction.X0 ? 1e-6 * xmax / lv[0] : 0);
                        Close.assertClose(ej, ec, atol, 2e-5, what + " " + p);
                    }
                    Close.assertClose(logDensity(dj, j, x, n, d, lv), logDensity(dc, cl, x, n, d, lv), 2e-3, 1e-4, what + " log p");
                }
            }
        }
    }

    @Test
    void openClIsDeterministic() {
        GaussianMixture m = MixturePresets.byName("gmm16d");
        ClDevice cl = TestDevices.openCl();
        float[] x = points(m, 0.8, 0.6, 333);
        double[] lv = {0.8, 0.6};
        try (var dc = new GaussianMixtureDenoiser(m, cl, Prediction.EPSILON)) {
            assertArrayEquals(run(dc, cl, x, 333, 16, lv, Prediction.EPSILON), run(dc, cl, x, 333, 16, lv, Prediction.EPSILON));
        }
    }

    @Test
    void rejectsWrongShapesDevicesAndLevels() {
        GaussianMixture m = MixturePresets.ring8();
        JavaDevice j = JavaDevice.get();
        try (var den = new GaussianMixtureDenoiser(m, j, Prediction.X0); Tensor x = Tensor.allocate(j, 5, 3);
             Tensor ok = Tensor.allocate(j, 5, 2)) {
            assertThrows(IllegalArgumentException.class, () -> den.predict(x, x, new NoiseLevel(1, 0.5, 0)));
            assertThrows(IllegalArgumentException.class, () -> den.predict(ok, ok, new NoiseLevel(0, 1, 0)));
            assertThrows(IllegalArgumentException.class, () -> den.predict(ok, ok, new NoiseLevel(0, 0, 0)));
        }
    }

    static float[] run(GaussianMixtureDenoiser den, dev.diffuse.runtime.Device dev, float[] x, int n, int d, double[] lv, Prediction p) {
        try (Tensor tx = Tensor.of(dev, x, n, d); Tensor out = Tensor.allocate(dev, n, d)) {
            den.predict(out, tx, new NoiseLevel(lv[0], lv[1], 0), p);
            return out.toArray();
        }
    }

    static float[] logDensity(GaussianMixtureDenoiser den, dev.diffuse.runtime.Device dev, float[] x, int n, int d, double[] lv) {
        try (Tensor tx = Tensor.of(dev, x, n, d); Tensor out = Tensor.allocate(dev, n)) {
            den.logDensity(out, tx, lv[0], lv[1]);
            return out.toArray();
        }
    }
}
