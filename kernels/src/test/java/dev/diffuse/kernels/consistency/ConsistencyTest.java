package dev.diffuse.kernels.consistency;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Philox;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;

class ConsistencyTest {
    static final float SMIN = 0.002f, SD = 0.5f;

    /** Noise levels spanning smin .. 80 (log-uniform), the first exactly smin. */
    static float[] sigmas(int b, long seed) {
        float[] u = Close.uniform(seed, b, 0, 1), s = new float[b];
        for (int i = 0; i < b; i++) s[i] = i == 0 ? SMIN : (float) (SMIN * Math.pow(80 / SMIN, u[i]));
        return s;
    }

    /** L(F) = (1/n) sum (c_skip x + c_out F - ft)^2 in double. */
    static double loss(double[] x, double[] net, double[] ft, float[] sigma, int per) {
        double l = 0;
        for (int i = 0; i < x.length; i++) {
            double s = sigma[i / per], f = Consistency.cSkip(s, SMIN, SD) * x[i] + Consistency.cOut(s, SMIN, SD) * net[i] - ft[i];
            l += f * f;
        }
        return l / x.length;
    }

    static double[] dbl(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    @Test
    void coefficientsAndBoundaryCondition() {
        assertEquals(1.0, Consistency.cSkip(SMIN, SMIN, SD));
        assertEquals(0.0, Consistency.cOut(SMIN, SMIN, SD));
        // large sigma: c_skip -> 0, c_out -> sd (the output is the network's, scaled to the data's std)
        assertEquals(0, Consistency.cSkip(1e4, SMIN, SD), 1e-8);
        assertEquals(SD, Consistency.cOut(1e4, SMIN, SD), 1e-4);
        assertEquals(1 / Math.sqrt(4 + 0.25), Consistency.cIn(2, SD), 1e-15);
        for (Device d : new Device[]{TestDevices.java(), TestDevices.openCl()}) {
            int b = 5, per = 33;
            float[] x = Close.randn(1, b * per), net = Close.randn(2, b * per), s = new float[b];
            java.util.Arrays.fill(s, SMIN);
            for (int k = 0; k < per; k++) net[k] = 1e30f; // even a huge network output is multiplied by exactly 0
            try (Tensor f = Tensor.allocate(d, b, per); Tensor xt = Tensor.of(d, x, b, per); Tensor nt = Tensor.of(d, net, b, per);
                 Tensor st = Tensor.of(d, s, b)) {
                Consistency.combine(f, xt, nt, st, SMIN, SD);
                assertArrayEquals(x, f.toArray(), "f(x, sigma_min) = x exactly on " + d.id());
            }
        }
    }

    @Test
    void javaForwardMatchesTheDefinition() {
        int b = 3, per = 12, n = b * per;
        float[] x = Close.randn(3, n), net = Close.randn(4, n), s = sigmas(b, 5);
        Device d = TestDevices.java();
        try (Tensor f = Tensor.allocate(d, b, per); Tensor in = Tensor.allocate(d, b, per); Tensor pt = Tensor.allocate(d, b, per);
             Tensor xt = Tensor.of(d, x, b, per); Tensor nt = Tensor.of(d, net, b, per); Tensor st = Tensor.of(d, s, b)) {
            Consistency.combine(f, xt, nt, st, SMIN, SD);
            Consistency.input(in, xt, st, SD);
            Consistency.perturb(pt, xt, st, 9, 17);
            double[] ef = new double[n], ei = new double[n], ep = new double[n];
            for (int i = 0; i < n; i++) {
                double sg = s[i / per];
                ef[i] = Consistency.cSkip(sg, SMIN, SD) * x[i] + Consistency.cOut(sg, SMIN, SD) * net[i];
                ei[i] = Consistency.cIn(sg, SD) * x[i];
                ep[i] = x[i] + sg * Philox.normal(9, 17, i);
            }
            Close.assertClose(ef, dbl(f.toArray()), 1e-5, 1e-5, "combine");
            Close.assertClose(ei, dbl(in.toArray()), 1e-6, 1e-5, "c_in x");
            Close.assertClose(ep, dbl(pt.toArray()), 1e-5, 1e-5, "perturb");
        }
    }

    @Test
    void lossGradientMatchesFiniteDifferences() {
        int b = 3, per = 5, n = b * per;
        float[] x = Close.randn(6, n), net = Close.randn(7, n), ft = Close.randn(8, n), s = sigmas(b, 9);
        s[0] = 0.3f; // every sample away from smin so each gradient is non-zero
        double[] xd = dbl(x), nd = dbl(net), td = dbl(ft), analytic = new double[n], fd = new double[n];
        double h = 1e-6;
        for (int i = 0; i < n; i++) {
            double sg = s[i / per], f = Consistency.cSkip(sg, SMIN, SD) * xd[i] + Consistency.cOut(sg, SMIN, SD) * nd[i];
            analytic[i] = Consistency.cOut(sg, SMIN, SD) * 2 * (f - td[i]) / n;
            double keep = nd[i];
            nd[i] = keep + h;
            double lp = loss(xd, nd, td, s, per);
            nd[i] = keep - h;
            double lm = loss(xd, nd, td, s, per);
            nd[i] = keep;
            fd[i] = (lp - lm) / (2 * h);
        }
        Close.assertClose(fd, analytic, 1e-9, 1e-6, "dL/dF finite differences (double)");
        for (Device d : new Device[]{TestDevices.java(), TestDevices.openCl()}) {
            try (Tensor f = Tensor.allocate(d, b, per); Tensor dn = Tensor.allocate(d, b, per); Tensor xt = Tensor.of(d, x, b, per);
                 Tensor nt = Tensor.of(d, net, b, per); Tensor tt = Tensor.of(d, ft, b, per); Tensor st = Tensor.of(d, s, b)) {
                Consistency.combine(f, xt, nt, st, SMIN, SD);
                Consistency.lossBackward(dn, f, tt, st, SMIN, SD);
                Close.assertClose(analytic, dbl(dn.toArray()), 1e-7, 1e-4, "float lossBackward on " + d.id());
            }
        }
    }

    @Test
    void openClMatchesJavaOnOddShapesAndIsDeterministic() {
        int[][] shapes = {{1, 33}, {3, 3 * 7 * 7}, {5, 2}, {3, 5 * 28 * 28}};
        Device j = TestDevices.java(), c = TestDevices.openCl();
        long seed = 11;
        for (int[] sh : shapes) {
            int b = sh[0], per = sh[1], n = b * per;
            float[] x = Close.randn(seed++, n), net = Close.randn(seed++, n), ft = Close.randn(seed++, n), s = sigmas(b, seed++);
            float[][][] res = new float[3][][];
            Device[] devs = {j, c, c};
            for (int r = 0; r < 3; r++) {
                Device d = devs[r];
                try (Tensor f = Tensor.allocate(d, b, per); Tensor in = Tensor.allocate(d, b, per); Tensor pt = Tensor.allocate(d, b, per);
                     Tensor dn = Tensor.allocate(d, b, per); Tensor xt = Tensor.of(d, x, b, per); Tensor nt = Tensor.of(d, net, b, per);
                     Tensor tt = Tensor.of(d, ft, b, per); Tensor st = Tensor.of(d, s, b)) {
                    Consistency.combine(f, xt, nt, st, SMIN, SD);
                    Consistency.input(in, xt, st, SD);
                    Consistency.perturb(pt, xt, st, 3, 41);
                    Consistency.lossBackward(dn, f, tt, st, SMIN, SD);
                    res[r] = new float[][]{f.toArray(), in.toArray(), pt.toArray(), dn.toArray()};
                }
            }
            String[] what = {"combine", "input", "perturb", "lossBackward"};
            for (int k = 0; k < 4; k++) {
                // perturb: sigma up to 80 times a normal computed with the device's log/sin/cos (a few ulp)
                float atol = k == 2 ? 1e-4f * 80 : 1e-6f;
                Close.assertClose(res[0][k], res[1][k], atol, 1e-4, what[k] + " " + b + "x" + per);
                assertArrayEquals(res[1][k], res[2][k], what[k] + " twice on OpenCL");
            }
        }
    }

    @Test
    void errorsSayWhatIsWrong() {
        Device d = TestDevices.java();
        try (Tensor f = Tensor.allocate(d, 3, 2); Tensor s = Tensor.allocate(d, 2)) {
            String m = assertThrows(IllegalArgumentException.class, () -> Consistency.combine(f, f, f, s, SMIN, SD)).getMessage();
            assertTrue(m.contains("one noise level per sample"), m);
            try (Tensor ok = Tensor.allocate(d, 3)) {
                m = assertThrows(IllegalArgumentException.class, () -> Consistency.input(f, f, ok, 0f)).getMessage();
                assertTrue(m.contains("sigma_data"), m);
            }
        }
    }
}
