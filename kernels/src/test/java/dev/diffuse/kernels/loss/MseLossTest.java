package dev.diffuse.kernels.loss;

import static dev.diffuse.runtime.Close.assertClose;
import static dev.diffuse.runtime.Close.randn;
import static dev.diffuse.runtime.Close.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;

/** MSE loss: definition, double finite differences for dpred, OpenCL vs Java on odd sizes, bit-identical reruns. */
class MseLossTest {
    private static final JavaDevice J = TestDevices.java();

    /** L = (1/n) sum_b w_b sum_i (p - t)^2 in double. */
    static double lossDouble(double[] p, double[] t, double[] w, int b) {
        int n = p.length, per = n / b;
        double l = 0;
        for (int i = 0; i < n; i++) l += (w == null ? 1 : w[i / per]) * (p[i] - t[i]) * (p[i] - t[i]);
        return l / n;
    }

    private static double[] d(float[] f) {
        if (f == null) return null;
        double[] o = new double[f.length];
        for (int i = 0; i < f.length; i++) o[i] = f[i];
        return o;
    }

    private static float[][] run(Device dev, float[] p, float[] t, float[] w, int b, float dL) {
        int per = p.length / b;
        try (Tensor tp = Tensor.of(dev, p, b, per); Tensor tt = Tensor.of(dev, t, b, per);
             Tensor tw = w == null ? null : Tensor.of(dev, w, b); Tensor out = Tensor.allocate(dev, 1);
             Tensor g = Tensor.allocate(dev, b, per)) {
            MseLoss.forward(out, tp, tt, tw);
            MseLoss.backward(g, tp, tt, tw, dL);
            return new float[][]{out.toArray(), g.toArray()};
        }
    }

    @Test
    void gradientMatchesFiniteDifferencesInDouble() {
        int b = 3, per = 5, n = b * per;
        float[] pf = randn(1, n), tf = randn(2, n), wf = uniform(3, b, 0.2, 2);
        for (float[] wUsed : new float[][]{null, wf}) {
            double[] p = d(pf), t = d(tf), w = d(wUsed);
            double dL = 0.7;
            double[] want = new double[n], fd = new double[n];
            for (int i = 0; i < n; i++) want[i] = 2 * (w == null ? 1 : w[i / per]) * (p[i] - t[i]) / n * dL;
            for (int i = 0; i < n; i++) {
                double old = p[i], h = 1e-6;
                p[i] = old + h;
                double lp = lossDouble(p, t, w, b);
                p[i] = old - h;
                double lm = lossDouble(p, t, w, b);
                p[i] = old;
                fd[i] = dL * (lp - lm) / (2 * h);
            }
            String what = w == null ? "unweighted" : "weighted";
            assertClose(fd, want, 1e-9, 1e-6, "dpred vs finite differences, " + what);
            float[][] got = run(J, pf, tf, wUsed, b, (float) dL);
            assertClose(new double[]{lossDouble(p, t, w, b)}, d(got[0]), 0, 1e-6, "java forward, " + what);
            assertClose(want, d(got[1]), 1e-7, 1e-6, "java backward, " + what);
        }
    }

    @ParameterizedTest(name = "B={0} per={1}")
    @CsvSource({"1,7", "3,33", "3,2352", "64,1257", "1,257"})
    void openClMatchesJava(int b, int per) {
        int n = b * per;
        float[] p = randn(b * 7L + per, n), t = randn(per, n), w = uniform(b, b, 0, 3);
        for (float[] wUsed : new float[][]{null, w}) {
            float[][] j = run(J, p, t, wUsed, b, 1.5f);
            float[][] c = run(TestDevices.openCl(), p, t, wUsed, b, 1.5f);
            String what = b + "x" + per + (wUsed == null ? "" : " weighted");
            assertClose(j[0], c[0], 0, 1e-5, "loss " + what);
            assertClose(j[1], c[1], 1e-9, 1e-6, "dpred " + what);
        }
    }

    @Test
    void openClLossIsBitIdenticalAcrossRuns() {
        ClDevice cl = TestDevices.openCl();
        int b = 5, per = 3 * 28 * 28 * 7 + 1; // many partial groups, ragged tail
        float[] p = randn(31, b * per), t = randn(32, b * per), w = uniform(33, b, 0, 2);
        float[] first = run(cl, p, t, w, b, 1f)[0], second = run(cl, p, t, w, b, 1f)[0];
        assertArrayEquals(first, second, "MSE loss must be bit-identical between runs");
    }
}
