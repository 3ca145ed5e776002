package dev.diffuse.kernels.linear;

import static dev.diffuse.runtime.Close.assertClose;
import static dev.diffuse.runtime.Close.randn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;

/** GEMM (all transposes) and Linear: definition, double-precision finite differences, OpenCL vs Java, determinism. */
class LinearTest {
    private static final JavaDevice J = TestDevices.java();

    /** op(A)[i][k] op(B)[k][j] in double, straight from the row-major arrays. */
    static double[] gemmDouble(float[] a, float[] b, float[] c, boolean ta, boolean tb, int m, int n, int k,
                               double alpha, double beta) {
        double[] out = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++)
                    s += (double) a[ta ? p * m + i : i * k + p] * b[tb ? j * k + p : p * n + j];
                out[i * n + j] = alpha * s + (beta == 0 ? 0 : beta * c[i * n + j]);
            }
        return out;
    }

    private static float[] gemmOn(Device d, boolean fast, float[] a, float[] b, float[] c, boolean ta, boolean tb,
                                  int m, int n, int k, float alpha, float beta) {
        try (Tensor ta_ = Tensor.of(d, a, ta ? k : m, ta ? m : k); Tensor tb_ = Tensor.of(d, b, tb ? n : k, tb ? k : n);
             Tensor tc = Tensor.of(d, c, m, n)) {
            if (fast) Gemm.gemm(tc, ta_, tb_, ta, tb, alpha, beta);
            else Gemm.reference(tc, ta_, tb_, ta, tb, alpha, beta);
            return tc.toArray();
        }
    }

    @ParameterizedTest(name = "{0}x{1}x{2} transA={3} transB={4}")
    @CsvSource({"1,1,1,false,false", "3,7,33,false,true", "93,33,7,true,false", "33,257,93,true,true",
                "144,3,257,false,true", "257,93,1,false,false", "7,144,33,true,false"})
    void gemmJavaAndOpenClMatchDefinition(int m, int n, int k, boolean ta, boolean tb) {
        float[] a = randn(m * 31L + k, m * k), b = randn(n * 17L + k, n * k), c = randn(7, m * n);
        for (float beta : new float[]{0f, 0.75f}) {
            float alpha = -1.25f;
            double[] want = gemmDouble(a, b, c, ta, tb, m, n, k, alpha, beta);
            float[] wantF = new float[want.length];
            for (int i = 0; i < want.length; i++) wantF[i] = (float) want[i];
            double atol = 2e-6 * Math.sqrt(k) * 3, rtol = 1e-5;
            String what = m + "x" + n + "x" + k + " ta=" + ta + " tb=" + tb + " beta=" + beta;
            float[] ref = gemmOn(J, false, a, b, c, ta, tb, m, n, k, alpha, beta);
            assertClose(wantF, ref, atol, rtol, "java reference " + what);
            float[] fast = gemmOn(J, true, a, b, c, ta, tb, m, n, k, alpha, beta);
            assertClose(wantF, fast, atol, rtol, "java fast " + what);
            float[] cl = gemmOn(TestDevices.openCl(), true, a, b, c, ta, tb, m, n, k, alpha, beta);
            assertClose(fast, cl, atol, rtol, "opencl vs java " + what);
        }
    }

    /** Both OpenCL tilings on ragged shapes, whatever size the automatic choice would pick. */
    @ParameterizedTest(name = "{0}x{1}x{2}")
    @CsvSource({"257,93,33", "33,7,144", "129,65,17"})
    void bothOpenClTilingsMatchJavaInAllTransposes(int m, int n, int k) {
        ClDevice cl = TestDevices.openCl();
        float[] a = randn(41, m * k), b = randn(42, n * k), c = randn(43, m * n), bias = randn(44, n);
        for (GemmCl.Tiling t : new GemmCl.Tiling[]{GemmCl.SMALL, GemmCl.LARGE})
            for (int v = 0; v < 4; v++) {
                boolean ta = (v & 1) != 0, tb = (v & 2) != 0;
                String what = t + " " + m + "x" + n + "x" + k + " ta=" + ta + " tb=" + tb;
                float[][] out = new float[2][];
                Device[] devs = {J, cl};
                for (int i = 0; i < 2; i++)
                    try (Tensor ta_ = Tensor.of(devs[i], a, ta ? k : m, ta ? m : k);
                         Tensor tb_ = Tensor.of(devs[i], b, tb ? n : k, tb ? k : n);
                         Tensor tc = Tensor.of(devs[i], c, m, n); Tensor tbias = Tensor.of(devs[i], bias, n)) {
                        if (i == 0) Gemm.gemm(tc, ta_, tb_, tbias, ta, tb, 0.5f, -1f);
                        else GemmCl.gemm(cl, t, tc, ta_, tb_, tbias, ta, tb, 0.5f, -1f, m, n, k);
                        out[i] = tc.toArray();
                    }
                assertClose(out[0], out[1], 1e-4, 1e-4, what);
            }
    }

    @Test
    void gemmRejectsMismatchedInnerDimension() {
        try (Tensor a = Tensor.allocate(J, 3, 4); Tensor b = Tensor.allocate(J, 5, 6); Tensor c = Tensor.allocate(J, 3, 6)) {
            var e = assertThrows(IllegalArgumentException.class, () -> Gemm.gemm(c, a, b, false, false, 1f, 0f));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("inner dimensions"), e.getMessage());
        }
    }

    // ---------------------------------------------------------------- Linear, double precision

    /** L = sum_{m,n} r[m][n] * y[m][n] with y = x W^T + b: a scalar whose dL/dy is r. */
    static double lossDouble(double[] x, double[] w, double[] b, double[] r, int m, int n, int k) {
        double l = 0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double y = b[j];
                for (int p = 0; p < k; p++) y += x[i * k + p] * w[j * k + p];
                l += r[i * n + j] * y;
            }
        return l;
    }

    private static double[] fd(double[] v, java.util.function.DoubleSupplier loss) {
        double h = 1e-6;
        double[] g = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            double old = v[i];
            v[i] = old + h;
            double lp = loss.getAsDouble();
            v[i] = old - h;
            double lm = loss.getAsDouble();
            v[i] = old;
            g[i] = (lp - lm) / (2 * h);
        }
        return g;
    }

    private static double[] d(float[] f) {
        double[] o = new double[f.length];
        for (int i = 0; i < f.length; i++) o[i] = f[i];
        return o;
    }

    @Test
    void linearBackwardMatchesFiniteDifferencesInDouble() {
        int m = 5, n = 4, k = 3;
        float[] xf = randn(1, m * k), wf = randn(2, n * k), bf = randn(3, n), rf = randn(4, m * n);
        double[] x = d(xf), w = d(wf), b = d(bf), r = d(rf);
        java.util.function.DoubleSupplier loss = () -> lossDouble(x, w, b, r, m, n, k);
        // Derived backward in double: dx = r W, dW = r^T x, db = sum_rows r.
        double[] dx = new double[m * k], dw = new double[n * k], db = new double[n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                db[j] += r[i * n + j];
                for (int p = 0; p < k; p++) {
                    dx[i * k + p] += r[i * n + j] * w[j * k + p];
                    dw[j * k + p] += r[i * n + j] * x[i * k + p];
                }
            }
        assertClose(fd(x, loss), dx, 1e-8, 1e-6, "dx vs finite differences");
        assertClose(fd(w, loss), dw, 1e-8, 1e-6, "dW vs finite differences");
        assertClose(fd(b, loss), db, 1e-8, 1e-6, "db vs finite differences");

        // The float Java op against the double reference; dW and db start non-zero to check accumulation.
        float[] dw0 = randn(5, n * k), db0 = randn(6, n);
        try (Tensor tx = Tensor.of(J, xf, m, k); Tensor tw = Tensor.of(J, wf, n, k); Tensor tb = Tensor.of(J, bf, n);
             Tensor ty = Tensor.allocate(J, m, n); Tensor tdy = Tensor.of(J, rf, m, n); Tensor tdx = Tensor.allocate(J, m, k);
             Tensor tdw = Tensor.of(J, dw0, n, k); Tensor tdb = Tensor.of(J, db0, n)) {
            Linear.forward(ty, tx, tw, tb);
            double[] y = new double[m * n];
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    y[i * n + j] = b[j];
                    for (int p = 0; p < k; p++) y[i * n + j] += x[i * k + p] * w[j * k + p];
                }
            assertClose(y, d(ty.toArray()), 1e-6, 1e-6, "forward");
            Linear.backward(tdx, tdw, tdb, tdy, tx, tw);
            for (int i = 0; i < dw.length; i++) dw[i] += dw0[i];
            for (int i = 0; i < db.length; i++) db[i] += db0[i];
            assertClose(dx, d(tdx.toArray()), 1e-6, 1e-6, "float dx");
            assertClose(dw, d(tdw.toArray()), 1e-6, 1e-6, "float dW (accumulated)");
            assertClose(db, d(tdb.toArray()), 1e-6, 1e-6, "float db (accumulated)");
        }
    }

    // ---------------------------------------------------------------- Linear, OpenCL vs Java

    private static float[][] linearOn(Device dev, float[] x, float[] w, float[] b, float[] dy, float[] dw0, float[] db0,
                                      int m, int n, int k) {
        try (Tensor tx = Tensor.of(dev, x, m, k); Tensor tw = Tensor.of(dev, w, n, k); Tensor tb = Tensor.of(dev, b, n);
             Tensor ty = Tensor.allocate(dev, m, n); Tensor tdy = Tensor.of(dev, dy, m, n);
             Tensor tdx = Tensor.allocate(dev, m, k); Tensor tdw = Tensor.of(dev, dw0, n, k); Tensor tdb = Tensor.of(dev, db0, n)) {
            Linear.forward(ty, tx, tw, tb);
            Linear.backward(tdx, tdw, tdb, tdy, tx, tw);
            return new float[][]{ty.toArray(), tdx.toArray(), tdw.toArray(), tdb.toArray()};
        }
    }

    @ParameterizedTest(name = "M={0} N={1} K={2}")
    @CsvSource({"1,3,7", "93,33,144", "257,7,33", "3,144,1"})
    void linearOpenClMatchesJava(int m, int n, int k) {
        float[] x = randn(11, m * k), w = randn(12, n * k), b = randn(13, n), dy = randn(14, m * n);
        float[] dw0 = randn(15, n * k), db0 = randn(16, n);
        float[][] j = linearOn(J, x, w, b, dy, dw0, db0, m, n, k);
        float[][] c = linearOn(TestDevices.openCl(), x, w, b, dy, dw0, db0, m, n, k);
        String[] names = {"y", "dx", "dW", "db"};
        for (int i = 0; i < 4; i++) assertClose(j[i], c[i], 1e-4, 1e-4, names[i] + " " + m + "x" + n + "x" + k);
    }

    @Test
    void biasGradIsBitIdenticalAcrossRunsOnOpenCl() {
        ClDevice cl = TestDevices.openCl();
        int m = 3001, n = 37; // several row chunks, columns not a multiple of 32
        float[] dy = randn(21, m * n);
        float[][] runs = new float[2][];
        for (int r = 0; r < 2; r++)
            try (Tensor tdy = Tensor.of(cl, dy, m, n); Tensor db = Tensor.allocate(cl, n)) {
                Linear.biasGrad(db, tdy);
                runs[r] = db.toArray();
            }
        assertArrayEquals(runs[0], runs[1], "db must be bit-identical between runs");
        double[] want = new double[n];
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) want[j] += dy[i * n + j];
        assertClose(want, d(runs[0]), 1e-3, 1e-5, "db on OpenCL vs double sum");
    }
}
