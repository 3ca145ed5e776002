package dev.diffuse.kernels.posterior;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dev.diffuse.kernels.reduce.Reduce;
import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Philox;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;

class DiagonalGaussianTest {
    static final long SEED = 5, STREAM = 42;

    /** Moments (b, 2l, s): means N(0, 1), logvars in [-4, 2], a few outside the clamp range to test it. */
    static float[] moments(long seed, int b, int l, int s) {
        float[] m = Close.randn(seed, b * 2 * l * s), u = Close.uniform(seed + 1, b * l * s, -4, 2);
        for (int i = 0; i < b * l * s; i++) {
            long lv = (long) (i / (l * s)) * 2 * l * s + l * s + i % (l * s);
            m[(int) lv] = u[i];
        }
        if (m.length > 2 * l * s) { // one clamped below, one above, in the second sample
            m[2 * l * s + l * s] = -31f;
            m[2 * l * s + l * s + 1] = 21f;
        }
        return m;
    }

    /** z and KL terms from the definition, in double. */
    static double[][] reference(float[] mo, int b, int l, int s, double noise) {
        int n = b * l * s, ls = l * s;
        double[] z = new double[n], kl = new double[n];
        for (int i = 0; i < n; i++) {
            int m = (i / ls) * 2 * ls + i % ls;
            double mean = mo[m], lv = Math.min(20, Math.max(-30, mo[m + ls])), std = Math.exp(lv / 2);
            z[i] = mean + noise * std * Philox.normal(SEED, STREAM, i);
            kl[i] = 0.5 * (mean * mean + Math.exp(lv) - 1 - lv);
        }
        return new double[][]{z, kl};
    }

    /**
     * Element i's term of L(moments) = sum_i r_i z_i + w sum_i kl_i, in double (z drawn with the fixed eps), split into
     * the part that depends on its mean, r (mean) + w mean^2 / 2, and the part that depends on its logvar,
     * r std eps + w (exp(lv) - 1 - lv) / 2. L is the sum of these parts over the elements, so the finite difference of
     * a moment is that of its own part (the whole sum would bury it: exp(20) from a clamped logvar is 5e8).
     */
    static double meanPart(double mean, float r, double w) { return r * mean + w * 0.5 * mean * mean; }

    static double logvarPart(double logvar, float r, double w, int i) {
        double lv = Math.min(20, Math.max(-30, logvar)), std = Math.exp(lv / 2);
        return r * std * Philox.normal(SEED, STREAM, i) + w * 0.5 * (Math.exp(lv) - 1 - lv);
    }

    @Test
    void sampleModeAndKlMatchTheDefinition() {
        int b = 3, l = 4, s = 5 * 7;
        float[] mo = moments(1, b, l, s);
        for (Device d : new Device[]{TestDevices.java(), TestDevices.openCl()}) {
            try (Tensor m = Tensor.of(d, mo, b, 2 * l, 5, 7); Tensor z = Tensor.allocate(d, b, l, 5, 7); Tensor kl = Tensor.allocate(d, b, l, 5, 7);
                 Tensor mode = Tensor.allocate(d, b, l, 5, 7); Tensor sum = Tensor.allocate(d, 1)) {
                DiagonalGaussian.sample(z, kl, m, SEED, STREAM);
                DiagonalGaussian.mode(mode, null, m);
                double[][] ref = reference(mo, b, l, s, 1), mref = reference(mo, b, l, s, 0);
                Close.assertClose(ref[0], dbl(z.toArray()), 1e-5, 1e-5, "z on " + d.id());
                Close.assertClose(ref[1], dbl(kl.toArray()), 1e-5, 1e-5, "kl on " + d.id());
                assertArrayEquals(toFloat(mref[0]), mode.toArray(), "the mode is the mean, exactly, on " + d.id());
                Reduce.sum(sum, kl);
                double total = 0;
                for (double v : ref[1]) total += v;
                Close.assertClose(new double[]{total}, new double[]{sum.toArray()[0]}, 1e-3, 1e-5, "sum of KL terms");
            }
        }
    }

    @Test
    void backwardMatchesFiniteDifferencesInDouble() {
        int b = 3, l = 2, s = 3;
        float[] mo = moments(3, b, l, s), r = Close.randn(4, b * l * s);
        double w = 0.37;
        double[] fd = new double[mo.length];
        double h = 1e-6;
        int ls = l * s;
        for (int i = 0; i < b * ls; i++) {
            int m = (i / ls) * 2 * ls + i % ls;
            double mean = mo[m], lv = mo[m + ls];
            fd[m] = (meanPart(mean + h, r[i], w) - meanPart(mean - h, r[i], w)) / (2 * h);
            fd[m + ls] = (logvarPart(lv + h, r[i], w, i) - logvarPart(lv - h, r[i], w, i)) / (2 * h);
        }
        // the two clamped logvars get no gradient (flat outside [-30, 20])
        assertTrue(fd[2 * l * s + l * s] == 0 && fd[2 * l * s + l * s + 1] == 0, "clamped logvars are flat");
        for (Device d : new Device[]{TestDevices.java(), TestDevices.openCl()}) {
            try (Tensor m = Tensor.of(d, mo, b, 2 * l, s); Tensor dz = Tensor.of(d, r, b, l, s); Tensor dm = Tensor.allocate(d, b, 2 * l, s)) {
                DiagonalGaussian.backward(dm, dz, m, (float) w, SEED, STREAM);
                Close.assertClose(fd, dbl(dm.toArray()), 1e-5, 1e-4, "d moments vs central differences on " + d.id());
            }
        }
    }

    @Test
    void openClMatchesJavaOnOddShapesAndIsDeterministic() {
        int[][] shapes = {{1, 1, 1}, {3, 4, 7 * 7}, {2, 3, 93}, {5, 4, 8 * 8}};
        Device j = TestDevices.java(), c = TestDevices.openCl();
        long seed = 20;
        for (int[] sh : shapes) {
            int b = sh[0], l = sh[1], s = sh[2];
            float[] mo = moments(seed++, b, l, s), r = Close.randn(seed++, b * l * s);
            float[][][] res = new float[3][][];
            Device[] devs = {j, c, c};
            for (int k = 0; k < 3; k++) {
                Device d = devs[k];
                try (Tensor m = Tensor.of(d, mo, b, 2 * l, s); Tensor z = Tensor.allocate(d, b, l, s); Tensor kl = Tensor.allocate(d, b, l, s);
                     Tensor dz = Tensor.of(d, r, b, l, s); Tensor dm = Tensor.allocate(d, b, 2 * l, s)) {
                    DiagonalGaussian.sample(z, kl, m, 9, 3);
                    DiagonalGaussian.backward(dm, dz, m, 0.25f, 9, 3);
                    res[k] = new float[][]{z.toArray(), kl.toArray(), dm.toArray()};
                }
            }
            String[] what = {"z", "kl", "d moments"};
            for (int k = 0; k < 3; k++) {
                // exp and the Box-Muller normal differ by a few ulp between the devices' math libraries
                Close.assertClose(res[0][k], res[1][k], 1e-5, 1e-4, what[k] + " " + b + "x" + l + "x" + s);
                assertArrayEquals(res[1][k], res[2][k], what[k] + " twice on OpenCL");
            }
        }
    }

    @Test
    void errorsSayWhatIsWrong() {
        Device d = TestDevices.java();
        try (Tensor m = Tensor.allocate(d, 2, 6, 3, 3); Tensor z = Tensor.allocate(d, 2, 4, 3, 3); Tensor ok = Tensor.allocate(d, 2, 3, 3, 3)) {
            String msg = assertThrows(IllegalArgumentException.class, () -> DiagonalGaussian.sample(z, null, m, 1, 2)).getMessage();
            assertTrue(msg.contains("(B, 2L, ...)"), msg);
            msg = assertThrows(IllegalArgumentException.class, () -> DiagonalGaussian.backward(m, ok, m, Float.NaN, 1, 2)).getMessage();
            assertTrue(msg.contains("finite"), msg);
        }
    }

    static double[] dbl(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
        return f;
    }
}
