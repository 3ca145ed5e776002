package dev.diffuse.kernels.groupnorm;

import static dev.diffuse.runtime.Close.assertClose;
import static dev.diffuse.runtime.Close.randn;
import static dev.diffuse.runtime.Close.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;

/** GroupNorm (+ fused SiLU): definition in double, finite differences in double, OpenCL vs Java, determinism. */
class GroupNormTest {
    static final float EPS = 1e-5f;

    /** Double-precision definition: y = gamma*xhat + beta (then SiLU if silu). */
    static double[] refForward(double[] x, double[] ga, double[] be, int B, int C, int HW, int G, double eps, boolean silu) {
        int Cg = C / G, N = Cg * HW;
        double[] y = new double[x.length];
        for (int bg = 0; bg < B * G; bg++) {
            int base = bg * N, g = bg % G;
            double mu = 0, var = 0;
            for (int i = 0; i < N; i++) mu += x[base + i];
            mu /= N;
            for (int i = 0; i < N; i++) var += (x[base + i] - mu) * (x[base + i] - mu);
            double r = 1 / Math.sqrt(var / N + eps);
            for (int i = 0; i < N; i++) {
                int c = g * Cg + i / HW;
                double z = (x[base + i] - mu) * r * ga[c] + be[c];
                y[base + i] = silu ? z / (1 + Math.exp(-z)) : z;
            }
        }
        return y;
    }

    /** Double-precision analytic backward: returns {dx, dgamma, dbeta} (the formulas in GroupNorm's Javadoc). */
    static double[][] refBackward(double[] dy, double[] x, double[] ga, double[] be, int B, int C, int HW, int G, double eps, boolean silu) {
        int Cg = C / G, N = Cg * HW;
        double[] dx = new double[x.length], dga = new double[C], dbe = new double[C];
        for (int bg = 0; bg < B * G; bg++) {
            int base = bg * N, g = bg % G;
            double mu = 0, var = 0;
            for (int i = 0; i < N; i++) mu += x[base + i];
            mu /= N;
            for (int i = 0; i < N; i++) var += (x[base + i] - mu) * (x[base + i] - mu);
            double r = 1 / Math.sqrt(var / N + eps);
            double[] xh = new double[N], dxh = new double[N];
            double m1 = 0, m0 = 0;
            for (int i = 0; i < N; i++) {
                int c = g * Cg + i / HW;
                xh[i] = (x[base + i] - mu) * r;
                double dz = dy[base + i];
                if (silu) {
                    double z = xh[i] * ga[c] + be[c], s = 1 / (1 + Math.exp(-z));
                    dz *= s + z * s * (1 - s);
                }
                dga[c] += dz * xh[i];
                dbe[c] += dz;
                dxh[i] = dz * ga[c];
                m1 += dxh[i] / N;
                m0 += dxh[i] * xh[i] / N;
            }
            for (int i = 0; i < N; i++) dx[base + i] = r * (dxh[i] - m1 - xh[i] * m0);
        }
        return new double[][]{dx, dga, dbe};
    }

    static double loss(double[] w, double[] x, double[] ga, double[] be, int B, int C, int HW, int G, boolean silu) {
        double[] y = refForward(x, ga, be, B, C, HW, G, EPS, silu);
        double l = 0;
        for (int i = 0; i < y.length; i++) l += w[i] * y[i];
        return l;
    }

    static double[] d(float[] a) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) r[i] = a[i];
        return r;
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void finiteDifferencesInDoubleMatchAnalyticBackward(boolean silu) {
        int B = 2, C = 6, G = 3, HW = 9;
        double[] x = d(randn(1, B * C * HW)), ga = d(uniform(2, C, 0.5, 1.5)), be = d(randn(3, C)), w = d(randn(4, x.length));
        double[][] an = refBackward(w, x, ga, be, B, C, HW, G, EPS, silu);
        double h = 1e-6;
        double[][] params = {x, ga, be};
        for (int p = 0; p < 3; p++) {
            double[] v = params[p], fd = new double[v.length];
            for (int i = 0; i < v.length; i++) {
                double old = v[i];
                v[i] = old + h;
                double lp = loss(w, x, ga, be, B, C, HW, G, silu);
                v[i] = old - h;
                double lm = loss(w, x, ga, be, B, C, HW, G, silu);
                v[i] = old;
                fd[i] = (lp - lm) / (2 * h);
            }
            assertClose(fd, an[p], 1e-7, 1e-6, new String[]{"dx", "dgamma", "dbeta"}[p] + " silu=" + silu);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void javaMatchesDoubleDefinition(boolean silu) {
        int B = 3, C = 12, G = 3, H = 5, W = 7, HW = H * W, n = B * C * HW;
        float[] x = randn(10, n), ga = uniform(11, C, 0.5, 1.5), be = randn(12, C), dy = randn(13, n);
        for (int i = 0; i < n; i++) x[i] = 3f + 2f * x[i];   // an offset mean exercises the centering
        float[] dgInit = randn(14, C), dbInit = randn(15, C);
        Device j = TestDevices.java();
        try (Tensor tx = Tensor.of(j, x, B, C, H, W); Tensor tg = Tensor.of(j, ga, C); Tensor tb = Tensor.of(j, be, C);
             Tensor y = Tensor.allocate(j, B, C, H, W); Tensor mean = Tensor.allocate(j, B, G); Tensor rstd = Tensor.allocate(j, B, G);
             Tensor tdy = Tensor.of(j, dy, B, C, H, W); Tensor dx = Tensor.allocate(j, B, C, H, W);
             Tensor dg = Tensor.of(j, dgInit, C); Tensor db = Tensor.of(j, dbInit, C);
             Tensor scratch = Tensor.allocate(j, GroupNorm.scratchShape(B, C))) {
            if (silu) GroupNorm.forwardSilu(y, mean, rstd, tx, tg, tb, G, EPS);
            else GroupNorm.forward(y, mean, rstd, tx, tg, tb, G, EPS);
            assertClose(refForward(d(x), d(ga), d(be), B, C, HW, G, EPS, silu), d(y.toArray()), 1e-5, 1e-5, "forward silu=" + silu);
            if (silu) GroupNorm.backwardSilu(dx, dg, db, tdy, tx, tg, tb, mean, rstd, scratch, G);
            else GroupNorm.backward(dx, dg, db, tdy, tx, tg, tb, mean, rstd, scratch, G);
            double[][] ref = refBackward(d(dy), d(x), d(ga), d(be), B, C, HW, G, EPS, silu);
            for (int c = 0; c < C; c++) { ref[1][c] += dgInit[c]; ref[2][c] += dbInit[c]; }   // accumulated
            assertClose(ref[0], d(dx.toArray()), 1e-5, 1e-4, "dx silu=" + silu);
            assertClose(ref[1], d(dg.toArray()), 1e-4, 1e-4, "dgamma silu=" + silu);
            assertClose(ref[2], d(db.toArray()), 1e-4, 1e-4, "dbeta silu=" + silu);
        }
    }

    /** Runs forward + backward on {@code dev}; returns {y, mean, rstd, dx, dgamma, dbeta}. */
    static float[][] run(Device dev, boolean silu, int B, int C, int H, int W, int G, long seed) {
        int n = B * C * H * W;
        float[] x = randn(seed, n), ga = uniform(seed + 1, C, 0.5, 1.5), be = randn(seed + 2, C), dy = randn(seed + 3, n);
        try (Tensor tx = Tensor.of(dev, x, B, C, H, W); Tensor tg = Tensor.of(dev, ga, C); Tensor tb = Tensor.of(dev, be, C);
             Tensor y = Tensor.allocate(dev, B, C, H, W); Tensor mean = Tensor.allocate(dev, B, G); Tensor rstd = Tensor.allocate(dev, B, G);
             Tensor tdy = Tensor.of(dev, dy, B, C, H, W); Tensor dx = Tensor.allocate(dev, B, C, H, W);
             Tensor dg = Tensor.of(dev, new float[C], C); Tensor db = Tensor.of(dev, new float[C], C);
             Tensor scratch = Tensor.allocate(dev, GroupNorm.scratchShape(B, C))) {
            if (silu) {
                GroupNorm.forwardSilu(y, mean, rstd, tx, tg, tb, G, EPS);
                GroupNorm.backwardSilu(dx, dg, db, tdy, tx, tg, tb, mean, rstd, scratch, G);
            } else {
                GroupNorm.forward(y, mean, rstd, tx, tg, tb, G, EPS);
                GroupNorm.backward(dx, dg, db, tdy, tx, tg, tb, mean, rstd, scratch, G);
            }
            return new float[][]{y.toArray(), mean.toArray(), rstd.toArray(), dx.toArray(), dg.toArray(), db.toArray()};
        }
    }

    @ParameterizedTest(name = "B={0} C={1} {2}x{3} G={4} silu={5}")
    @CsvSource({"1, 32, 7, 7, 8, false", "3, 12, 28, 28, 3, true", "3, 5, 7, 7, 1, false", "1, 32, 28, 28, 8, true",
                "3, 32, 7, 7, 8, true", "3, 300, 1, 1, 1, true", "2, 64, 14, 14, 32, false", "1, 128, 32, 32, 32, false", "1, 128, 32, 32, 32, true"})
    void openClMatchesJava(int B, int C, int H, int W, int G, boolean silu) {
        float[][] j = run(TestDevices.java(), silu, B, C, H, W, G, 100 + C);
        float[][] c = run(TestDevices.openCl(), silu, B, C, H, W, G, 100 + C);
        String[] names = {"y", "mean", "rstd", "dx", "dgamma", "dbeta"};
        for (int k = 0; k < names.length; k++) {
            double tol = k >= 4 ? 2e-4 : 2e-5;
            assertClose(j[k], c[k], tol, tol, names[k] + " B=" + B + " C=" + C + " " + H + "x" + W + " G=" + G + " silu=" + silu);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void openClBackwardIsBitIdenticalAcrossRuns(boolean silu) {
        float[][] a = run(TestDevices.openCl(), silu, 3, 12, 28, 28, 3, 7);
        float[][] b = run(TestDevices.openCl(), silu, 3, 12, 28, 28, 3, 7);
        for (int k = 0; k < a.length; k++) assertArrayEquals(a[k], b[k], "output " + k + " differs between runs");
    }

    @Test
    void channelsNotMultipleOfGroupsIsRejected() {
        Device j = TestDevices.java();
        try (Tensor x = Tensor.allocate(j, 1, 10, 2, 2); Tensor y = Tensor.allocate(j, 1, 10, 2, 2); Tensor g = Tensor.allocate(j, 10);
             Tensor b = Tensor.allocate(j, 10); Tensor m = Tensor.allocate(j, 1, 4); Tensor r = Tensor.allocate(j, 1, 4)) {
            var e = assertThrows(IllegalArgumentException.class, () -> GroupNorm.forward(y, m, r, x, g, b, 4, EPS));
            assertTrue(e.getMessage().contains("not a multiple of groups"), e.getMessage());
        }
    }
}
