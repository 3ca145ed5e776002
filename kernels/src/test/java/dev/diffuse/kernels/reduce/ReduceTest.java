package dev.diffuse.kernels.reduce;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;

class ReduceTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 93, 144, 255, 257, 65_537, 1_000_003})
    void javaAndOpenClMatchTheDefinitionAndRepeatBitForBit(int n) {
        float[] x = Close.randn(n, n);
        for (int i = 0; i < n; i++) x[i] += 0.25f; // a non-zero mean so relative errors are meaningful
        ClDevice cl = TestDevices.openCl();
        for (Device d : new Device[]{TestDevices.java(), cl}) {
            try (Tensor t = Tensor.of(d, x, n); Tensor out = Tensor.allocate(d, 1)) {
                for (Reduce.Op op : Reduce.Op.values()) {
                    double expect = ReduceJava.reference(x, op);
                    run(op, out, t);
                    float got = Reduce.toHost(out);
                    double tol = op == Reduce.Op.MAX ? 0 : 1e-5 * (Math.abs(expect) + Math.sqrt(n));
                    assertEquals(expect, got, tol, op + " of " + n + " on " + d.id());
                    run(op, out, t);
                    assertEquals(Float.floatToRawIntBits(got), Float.floatToRawIntBits(Reduce.toHost(out)), "repeatable bits");
                }
                Reduce.mean(out, t);
                assertEquals(ReduceJava.reference(x, Reduce.Op.SUM) / n, Reduce.toHost(out), 1e-5 * (1 + 1 / Math.sqrt(n)));
            }
        }
    }

    private static void run(Reduce.Op op, Tensor out, Tensor x) {
        switch (op) {
            case SUM -> Reduce.sum(out, x);
            case SUM_SQUARES -> Reduce.sumSquares(out, x);
            case MAX -> Reduce.max(out, x);
        }
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"1, 1", "7, 3", "93, 16", "1001, 2", "5, 784"})
    void rowDotMatchesTheDefinitionOnBothDevices(int rows, int d) {
        float[] a = Close.randn(rows, rows * d), b = Close.randn(rows + 7, rows * d);
        double[] expect = new double[rows];
        for (int r = 0; r < rows; r++) for (int j = 0; j < d; j++) expect[r] += (double) a[r * d + j] * b[r * d + j];
        for (Device dev : new Device[]{TestDevices.java(), TestDevices.openCl()}) {
            try (Tensor ta = Tensor.of(dev, a, rows, d); Tensor tb = Tensor.of(dev, b, rows, d); Tensor out = Tensor.allocate(dev, rows)) {
                Reduce.rowDot(out, ta, tb);
                float[] got = out.toArray();
                double[] g = new double[rows];
                for (int r = 0; r < rows; r++) g[r] = got[r];
                Close.assertClose(expect, g, 1e-5 * Math.sqrt(d), 1e-5, "rowDot on " + dev.id());
            }
        }
    }
}
