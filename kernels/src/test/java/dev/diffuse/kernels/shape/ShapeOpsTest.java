package dev.diffuse.kernels.shape;

import static dev.diffuse.runtime.Close.assertClose;
import static dev.diffuse.runtime.Close.randn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.function.UnaryOperator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;

/** Concat/split, nearest 2x upsample, broadcast add: definitions, finite differences in double, OpenCL vs Java. */
class ShapeOpsTest {
    // ---- double-precision definitions (forward) and analytic backward (VJP) ----

    static double[] concat(double[] a, double[] b, int B, int Ca, int Cb, int HW) {
        double[] o = new double[B * (Ca + Cb) * HW];
        for (int bi = 0; bi < B; bi++)
            for (int c = 0; c < Ca + Cb; c++)
                for (int i = 0; i < HW; i++)
                    o[(bi * (Ca + Cb) + c) * HW + i] = c < Ca ? a[(bi * Ca + c) * HW + i] : b[(bi * Cb + c - Ca) * HW + i];
        return o;
    }

    static double[] upsample(double[] x, int P, int H, int W) {
        double[] y = new double[P * 4 * H * W];
        for (int p = 0; p < P; p++)
            for (int h = 0; h < 2 * H; h++)
                for (int w = 0; w < 2 * W; w++) y[(p * 2 * H + h) * 2 * W + w] = x[(p * H + h / 2) * W + w / 2];
        return y;
    }

    static double[] upsampleBackward(double[] dy, int P, int H, int W) {
        double[] dx = new double[P * H * W];
        for (int p = 0; p < P; p++)
            for (int h = 0; h < 2 * H; h++)
                for (int w = 0; w < 2 * W; w++) dx[(p * H + h / 2) * W + w / 2] += dy[(p * 2 * H + h) * 2 * W + w];
        return dx;
    }

    static double[] addBroadcast(double[] x, double[] e, int HW) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] + e[i / HW];
        return y;
    }

    static double[] sumHw(double[] dy, int HW) {
        double[] de = new double[dy.length / HW];
        for (int i = 0; i < dy.length; i++) de[i / HW] += dy[i];
        return de;
    }

    static double[] d(float[] a) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) r[i] = a[i];
        return r;
    }

    /** Central differences of L(v) = sum w * f(v) at v (perturbs v in place, restores it). */
    static double[] fd(UnaryOperator<double[]> f, double[] v, double[] w) {
        double h = 1e-6;
        double[] g = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            double old = v[i];
            v[i] = old + h;
            double lp = dot(w, f.apply(v));
            v[i] = old - h;
            double lm = dot(w, f.apply(v));
            v[i] = old;
            g[i] = (lp - lm) / (2 * h);
        }
        return g;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    @Test
    void finiteDifferencesInDoubleMatchBackwards() {
        int B = 2, Ca = 3, Cb = 2, H = 3, W = 4, HW = H * W;
        double[] a = d(randn(1, B * Ca * HW)), b = d(randn(2, B * Cb * HW)), w = d(randn(3, B * (Ca + Cb) * HW));
        // concat: da = w[:, :Ca], db = w[:, Ca:]
        double[] da = new double[a.length], db = new double[b.length];
        for (int bi = 0; bi < B; bi++) {
            System.arraycopy(w, bi * (Ca + Cb) * HW, da, bi * Ca * HW, Ca * HW);
            System.arraycopy(w, (bi * (Ca + Cb) + Ca) * HW, db, bi * Cb * HW, Cb * HW);
        }
        assertClose(fd(v -> concat(v, b, B, Ca, Cb, HW), a, w), da, 1e-8, 1e-6, "concat da");
        assertClose(fd(v -> concat(a, v, B, Ca, Cb, HW), b, w), db, 1e-8, 1e-6, "concat db");

        double[] wu = d(randn(4, B * Ca * 4 * HW));
        assertClose(fd(v -> upsample(v, B * Ca, H, W), a, wu), upsampleBackward(wu, B * Ca, H, W), 1e-8, 1e-6, "upsample dx");

        double[] e = d(randn(5, B * Ca)), wb = d(randn(6, a.length));
        assertClose(fd(v -> addBroadcast(v, e, HW), a, wb), wb, 1e-8, 1e-6, "broadcast add dx");
        assertClose(fd(v -> addBroadcast(a, v, HW), e, wb), sumHw(wb, HW), 1e-8, 1e-6, "broadcast add de");
    }

    /** Runs every op and backward on {@code dev}; returns {cat, da, db, up, dup, add, de, dxCopy}. */
    static float[][] run(Device dev, int B, int Ca, int Cb, int H, int W, long seed) {
        int HW = H * W;
        float[] a = randn(seed, B * Ca * HW), b = randn(seed + 1, B * Cb * HW), dout = randn(seed + 2, B * (Ca + Cb) * HW),
                dup = randn(seed + 3, B * Ca * 4 * HW), e = randn(seed + 4, B * Ca);
        try (Tensor ta = Tensor.of(dev, a, B, Ca, H, W); Tensor tb = Tensor.of(dev, b, B, Cb, H, W);
             Tensor cat = Tensor.allocate(dev, B, Ca + Cb, H, W); Tensor tdout = Tensor.of(dev, dout, B, Ca + Cb, H, W);
             Tensor da = Tensor.allocate(dev, B, Ca, H, W); Tensor db = Tensor.allocate(dev, B, Cb, H, W);
             Tensor up = Tensor.allocate(dev, B, Ca, 2 * H, 2 * W); Tensor tdup = Tensor.of(dev, dup, B, Ca, 2 * H, 2 * W);
             Tensor dx = Tensor.allocate(dev, B, Ca, H, W); Tensor te = Tensor.of(dev, e, B, Ca);
             Tensor add = Tensor.allocate(dev, B, Ca, H, W); Tensor de = Tensor.allocate(dev, B, Ca);
             Tensor dxCopy = Tensor.allocate(dev, B, Ca, H, W)) {
            ShapeOps.concatChannels(cat, ta, tb);
            ShapeOps.splitChannels(da, db, tdout);
            ShapeOps.upsampleNearest2x(up, ta);
            ShapeOps.upsampleNearest2xBackward(dx, tdup);
            ShapeOps.addBroadcast(add, ta, te);
            ShapeOps.addBroadcastBackward(dxCopy, de, ta);
            return new float[][]{cat.toArray(), da.toArray(), db.toArray(), up.toArray(), dx.toArray(), add.toArray(),
                    de.toArray(), dxCopy.toArray(), a, b, dout, dup, e};
        }
    }

    @Test
    void javaMatchesDefinition() {
        int B = 3, Ca = 5, Cb = 2, H = 3, W = 5, HW = H * W;
        float[][] r = run(TestDevices.java(), B, Ca, Cb, H, W, 20);
        double[] a = d(r[8]), b = d(r[9]), dout = d(r[10]), dup = d(r[11]), e = d(r[12]);
        assertClose(concat(a, b, B, Ca, Cb, HW), d(r[0]), 0, 0, "concat");
        assertClose(dout, concat(d(r[1]), d(r[2]), B, Ca, Cb, HW), 0, 0, "split (re-concatenated)");
        assertClose(upsample(a, B * Ca, H, W), d(r[3]), 0, 0, "upsample");
        assertClose(upsampleBackward(dup, B * Ca, H, W), d(r[4]), 1e-6, 1e-6, "upsample backward");
        assertClose(addBroadcast(a, e, HW), d(r[5]), 1e-7, 1e-7, "broadcast add");
        assertClose(sumHw(a, HW), d(r[6]), 1e-5, 1e-5, "broadcast add de");
        assertClose(a, d(r[7]), 0, 0, "broadcast add dx = dy copy");
    }

    @ParameterizedTest(name = "B={0} Ca={1} Cb={2} {3}x{4}")
    @CsvSource({"1, 32, 32, 7, 7", "3, 12, 5, 28, 28", "3, 5, 12, 7, 7", "1, 128, 128, 32, 32", "3, 33, 12, 28, 28"})
    void openClMatchesJava(int B, int Ca, int Cb, int H, int W) {
        float[][] j = run(TestDevices.java(), B, Ca, Cb, H, W, 30 + Ca);
        float[][] c = run(TestDevices.openCl(), B, Ca, Cb, H, W, 30 + Ca);
        String[] names = {"concat", "split da", "split db", "upsample", "upsample backward", "broadcast add", "de", "dx copy"};
        for (int k = 0; k < names.length; k++)
            assertClose(j[k], c[k], 1e-5, 1e-5, names[k] + " B=" + B + " Ca=" + Ca + " Cb=" + Cb + " " + H + "x" + W);
    }

    @Test
    void openClBroadcastAddBackwardIsBitIdenticalAcrossRuns() {
        for (int hw : new int[]{7, 28}) {
            float[][] a = run(TestDevices.openCl(), 3, 12, 5, hw, hw, 9), b = run(TestDevices.openCl(), 3, 12, 5, hw, hw, 9);
            assertArrayEquals(a[6], b[6], "de differs between runs at " + hw + "x" + hw);
            assertArrayEquals(a[4], b[4], "upsample backward differs between runs at " + hw + "x" + hw);
        }
    }
}
