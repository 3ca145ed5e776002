package dev.diffuse.tornado.kernels;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.diffuse.kernels.activation.Activation;
import dev.diffuse.kernels.groupnorm.GroupNorm;
import dev.diffuse.kernels.linear.Linear;
import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.tornado.Tasks;
import dev.diffuse.tornado.TornadoTests;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;

/** TornadoVM linear (+SiLU) and GroupNorm (+SiLU) against the Java device on odd shapes. */
class LinearGroupNormTornadoTest {
    static final JavaDevice J = TestDevices.java();

    @ParameterizedTest
    @CsvSource({"1, 32, 128, false", "7, 93, 65, true", "130, 17, 3, false", "64, 128, 416, true"})
    void linearMatchesJava(int m, int k, int n, boolean silu) {
        float[] x = Close.randn(1, m * k), w = Close.randn(2, n * k), b = Close.randn(3, n);
        float[] expected;
        try (Tensor tx = Tensor.of(J, x, m, k); Tensor tw = Tensor.of(J, w, n, k); Tensor tb = Tensor.of(J, b, n);
             Tensor ty = Tensor.allocate(J, m, n)) {
            Linear.forward(ty, tx, tw, tb);
            if (silu) Activation.silu(ty, ty);
            expected = ty.toArray();
        }
        TornadoTests act = new TornadoTests(), par = new TornadoTests();
        int ox = act.put(x), oy = act.zeros(m * n), ow = par.put(w), ob = par.put(b);
        Tasks t = act.tasks();
        t.graph().transferToDevice(DataTransferMode.EVERY_EXECUTION, par.array());
        LinearTornado.forward(t, act.array(), par.array(), oy, ox, ow, ob, m, n, k, silu);
        act.run(t);
        Close.assertClose(expected, act.read(oy, m * n), 1e-4, 1e-4, "linear " + m + "x" + k + " -> " + n + (silu ? " + silu" : ""));
    }

    @ParameterizedTest
    @CsvSource({"2, 8, 4, 7, 7, true", "3, 6, 3, 5, 9, false", "1, 64, 8, 14, 14, true", "2, 96, 8, 28, 28, true", "1, 5, 5, 1, 1, false"})
    void groupNormMatchesJava(int b, int c, int groups, int h, int w, boolean silu) {
        int n = b * c * h * w;
        float[] x = Close.randn(4, n), gamma = Close.randn(5, c), beta = Close.randn(6, c);
        for (int i = 0; i < n; i++) x[i] = 3f + 2f * x[i];   // a mean far from 0 checks the two-pass variance
        float[] expected, mean, rstd;
        try (Tensor tx = Tensor.of(J, x, b, c, h, w); Tensor tg = Tensor.of(J, gamma, c); Tensor tb = Tensor.of(J, beta, c);
             Tensor ty = Tensor.allocate(J, b, c, h, w); Tensor tm = Tensor.allocate(J, b, groups); Tensor tr = Tensor.allocate(J, b, groups)) {
            if (silu) GroupNorm.forwardSilu(ty, tm, tr, tx, tg, tb, groups, 1e-5f);
            else GroupNorm.forward(ty, tm, tr, tx, tg, tb, groups, 1e-5f);
            expected = ty.toArray();
            mean = tm.toArray();
            rstd = tr.toArray();
        }
        TornadoTests act = new TornadoTests(), par = new TornadoTests();
        int ox = act.put(x), oy = act.zeros(n), os = act.zeros(2 * b * groups), og = par.put(gamma), ob = par.put(beta);
        Tasks t = act.tasks();
        t.graph().transferToDevice(DataTransferMode.EVERY_EXECUTION, par.array());
        GroupNormTornado.forward(t, act.array(), par.array(), oy, ox, og, ob, os, b, c, h * w, groups, 1e-5f, silu);
        act.run(t);
        String what = "groupnorm" + (silu ? "+silu " : " ") + b + "x" + c + "x" + h + "x" + w + " G=" + groups;
        Close.assertClose(expected, act.read(oy, n), 2e-5, 2e-5, what);
        Close.assertClose(mean, act.read(os, b * groups), 1e-5, 1e-5, what + " mean");
        Close.assertClose(rstd, act.read(os + b * groups, b * groups), 1e-5, 1e-4, what + " rstd");
    }
}
