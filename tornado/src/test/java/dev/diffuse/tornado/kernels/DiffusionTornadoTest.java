package dev.diffuse.tornado.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.diffuse.kernels.diffusion.QSample;
import dev.diffuse.kernels.diffusion.SamplerStep;
import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Philox;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.tornado.Tasks;
import dev.diffuse.tornado.TornadoTests;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/** The TornadoVM noise stream and fused diffusion updates against the Java device, on odd sizes. */
class DiffusionTornadoTest {
    static final JavaDevice J = TestDevices.java();

    @Test
    void philoxBitsAreTheJavaStream() throws Exception {
        int n = 1001;
        long seed = 0x1234_5678_9ABCL, stream = (3L << 32) + 7;
        IntArray out = new IntArray(n);
        Tasks t = new Tasks("bits");
        RngTornado.fillBits(t, out, n, seed, stream);
        t.graph().transferToHost(DataTransferMode.EVERY_EXECUTION, out);
        try (TornadoExecutionPlan p = t.plan()) {
            p.execute();
        }
        for (int i = 0; i < n; i++) assertEquals((int) Philox.uint32(seed, stream, i), out.get(i), "word " + i);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 93, 4099})
    void sameSeedSameNormals(int n) {
        TornadoTests a = new TornadoTests();
        int o = a.zeros(n);
        Tasks t = a.tasks();
        RngTornado.fillNormal(t, a.array(), o, n, 42, 5, 0.5f, 2f);
        a.run(t);
        float[] expected = new float[n];
        Philox.normals(42, 5, 0, expected, 0, n);
        for (int i = 0; i < n; i++) expected[i] = 0.5f + 2f * expected[i];
        Close.assertClose(expected, a.read(o, n), 1e-6, 1e-6, "normals, seed 42 stream 5");
    }

    @ParameterizedTest
    @ValueSource(ints = {5, 93, 1003})
    void samplerStepMatchesJava(int n) {
        float[] x = Close.randn(1, n), m = Close.randn(2, n), m2 = Close.randn(3, n);
        float[] expected;
        try (Tensor tx = Tensor.of(J, x, n); Tensor tm = Tensor.of(J, m, n); Tensor tm2 = Tensor.of(J, m2, n); Tensor out = Tensor.allocate(J, n)) {
            SamplerStep.step(out, tx, tm, tm2, 0.9, -0.3, 0.2, 0.7, 11, 4);
            expected = out.toArray();
        }
        TornadoTests a = new TornadoTests();
        int ox = a.put(x), om = a.put(m), om2 = a.put(m2), oo = a.zeros(n);
        Tasks t = a.tasks();
        DiffusionTornado.step(t, a.array(), oo, ox, om, om2, 0.9f, -0.3f, 0.2f, 0.7f, n, 11, 4);
        a.run(t);
        Close.assertClose(expected, a.read(oo, n), 1e-5, 1e-5, "sampler step");
    }

    @ParameterizedTest
    @ValueSource(ints = {7, 1001})
    void clippedStepMatchesJavaInPlace(int n) {
        float[] x = Close.randn(4, n), m = Close.randn(5, n);
        double[] f = {1.3, -0.8, -1, 1, 0.1, 0.95, 0.2, 0.05};
        float[] expected;
        try (Tensor tx = Tensor.of(J, x, n); Tensor tm = Tensor.of(J, m, n)) {
            SamplerStep.stepClipX0(tx, tx, tm, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], 9, 2);
            expected = tx.toArray();
        }
        TornadoTests a = new TornadoTests();
        int ox = a.put(x), om = a.put(m);
        Tasks t = a.tasks();
        float[] ff = new float[8];
        for (int i = 0; i < 8; i++) ff[i] = (float) f[i];
        DiffusionTornado.stepClipX0(t, a.array(), ox, ox, om, ff, n, 9, 2);
        a.run(t);
        Close.assertClose(expected, a.read(ox, n), 1e-5, 1e-5, "step with clipped x0, in place");
    }

    @Test
    void tableStepReadsTheRowOfTheCounter() throws Exception {
        int n = 93;
        float[] x = Close.randn(6, n), m = Close.randn(7, n);
        double[] f = {1.1, -0.4, -0.5, 0.5, 0.2, 0.9, 0.3, 0.4};
        float[] expected;
        try (Tensor tx = Tensor.of(J, x, n); Tensor tm = Tensor.of(J, m, n); Tensor out = Tensor.allocate(J, n)) {
            SamplerStep.stepClipX0(out, tx, tm, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], 3, 2 + 1);
            expected = out.toArray();
        }
        FloatArray table = new FloatArray(3 * DiffusionTornado.ROW);
        for (int i = 0; i < 8; i++) table.set(2 * DiffusionTornado.ROW + 1 + i, (float) f[i]);
        IntArray counter = IntArray.fromElements(2), run = IntArray.fromElements(3, 0);   // row 2, stream 3, seed 3
        TornadoTests a = new TornadoTests();
        int ox = a.put(x), om = a.put(m), oo = a.zeros(n);
        Tasks t = a.tasks();
        t.graph().transferToDevice(DataTransferMode.EVERY_EXECUTION, table, counter, run);
        DiffusionTornado.stepClipX0Table(t, a.array(), oo, ox, om, table, counter, run, n);
        a.run(t);
        Close.assertClose(expected, a.read(oo, n), 1e-5, 1e-5, "table step at row 2 (stream 3) under seed 3 from the run array");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1})
    void qSampleMatchesJava(int drawn) {
        int b = 3, per = 257, n = b * per;
        float[] x0 = Close.randn(8, n), eps = Close.randn(9, n), ca = {0.9f, 0.5f, 0.1f}, cs = {0.4f, 0.8f, 0.99f};
        float[] expected, expectedEps = null;
        try (Tensor tx = Tensor.of(J, x0, b, per); Tensor te = Tensor.of(J, eps, b, per); Tensor ta = Tensor.of(J, ca, b); Tensor ts = Tensor.of(J, cs, b); Tensor out = Tensor.allocate(J, b, per); Tensor eo = Tensor.allocate(J, b, per)) {
            if (drawn == 1) QSample.applyDrawn(out, eo, tx, ta, ts, 17, 6);
            else QSample.apply(out, tx, te, ta, ts);
            expected = out.toArray();
            if (drawn == 1) expectedEps = eo.toArray();
        }
        TornadoTests a = new TornadoTests();
        int ox = a.put(x0), oe = a.put(eps), oa = a.put(ca), os = a.put(cs), oo = a.zeros(n), oeo = a.zeros(n);
        Tasks t = a.tasks();
        DiffusionTornado.qSample(t, a.array(), oo, oeo, ox, drawn == 1 ? -1 : oe, oa, os, per, n, 17, 6);
        a.run(t);
        Close.assertClose(expected, a.read(oo, n), 1e-5, 1e-5, "q_sample");
        if (drawn == 1) Close.assertClose(expectedEps, a.read(oeo, n), 1e-6, 1e-6, "q_sample drawn eps");
    }
}
