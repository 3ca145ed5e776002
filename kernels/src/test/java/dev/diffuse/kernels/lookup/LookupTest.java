package dev.diffuse.kernels.lookup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;

class LookupTest {
    static final float[] LABELS = {2, 0, 2, 4, 1, 2, 7};  // 7 is out of range (K = 5): ignored

    /** Forward against the definition; backward against the double-precision gradient (exact: the op is linear). */
    @Test
    void javaForwardAndBackwardMatchDefinition() {
        int b = LABELS.length, d = 6, k = 5;
        float[] out0 = Close.randn(1, b * d), table = Close.randn(2, k * d), dout = Close.randn(3, b * d), dt0 = Close.randn(4, k * d);
        Device j = TestDevices.java();
        try (Tensor out = Tensor.of(j, out0, b, d); Tensor t = Tensor.of(j, table, k, d); Tensor l = Tensor.of(j, LABELS, b);
             Tensor g = Tensor.of(j, dout, b, d); Tensor dt = Tensor.of(j, dt0, k, d)) {
            Lookup.addRows(out, t, l);
            Lookup.addRowsBackward(dt, g, l);
            float[] eo = out0.clone();
            double[] edt = new double[k * d];
            for (int i = 0; i < k * d; i++) edt[i] = dt0[i];
            for (int i = 0; i < b; i++) {
                int c = (int) LABELS[i];
                if (c >= k) continue;
                for (int q = 0; q < d; q++) { eo[i * d + q] += table[c * d + q]; edt[c * d + q] += dout[i * d + q]; }
            }
            Close.assertClose(eo, out.toArray(), 0, 0, "lookup forward");
            float[] adt = dt.toArray();
            double[] adtd = new double[k * d];
            for (int i = 0; i < adt.length; i++) adtd[i] = adt[i];
            Close.assertClose(edt, adtd, 1e-6, 1e-6, "lookup backward vs double definition");
        }
    }

    @Test
    void openClMatchesJavaBitForBit() {
        ClDevice cl = TestDevices.openCl();
        int b = LABELS.length, d = 33, k = 5;
        float[] out0 = Close.randn(5, b * d), table = Close.randn(6, k * d), dout = Close.randn(7, b * d), dt0 = Close.randn(8, k * d);
        float[][] res = new float[2][];
        float[][] dres = new float[2][];
        Device[] devs = {JavaDevice.get(), cl};
        for (int r = 0; r < 2; r++) {
            Device dev = devs[r];
            try (Tensor out = Tensor.of(dev, out0, b, d); Tensor t = Tensor.of(dev, table, k, d); Tensor l = Tensor.of(dev, LABELS, b);
                 Tensor g = Tensor.of(dev, dout, b, d); Tensor dt = Tensor.of(dev, dt0, k, d)) {
                Lookup.addRows(out, t, l);
                Lookup.addRowsBackward(dt, g, l);
                res[r] = out.toArray();
                dres[r] = dt.toArray();
            }
        }
        assertArrayEquals(res[0], res[1], "forward (one add per element: exact)");
        assertArrayEquals(dres[0], dres[1], "backward (same b order: exact)");
    }

    @Test
    void shapeErrors() {
        Device j = TestDevices.java();
        try (Tensor out = Tensor.allocate(j, 3, 4); Tensor t = Tensor.allocate(j, 5, 3); Tensor l = Tensor.allocate(j, 3)) {
            assertThrows(IllegalArgumentException.class, () -> Lookup.addRows(out, t, l));
        }
    }
}
