package dev.diffuse.kernels.groupnorm;

import static dev.diffuse.runtime.Close.assertClose;
import static dev.diffuse.runtime.Close.randn;
import static dev.diffuse.runtime.Close.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;

/**
 * The Java device's vector GroupNorm against the readable reference {@link GroupNormJava} on odd shapes (H*W not a
 * multiple of the lane count, groups larger than a summation block, batch 1 and 3, a large mean), and its results
 * independent of the thread count (every (b, g) computed one by one on this thread gives the same bits).
 */
class GroupNormVectorTest {
    static final float EPS = 1e-5f;

    /** The tensors of one forward + backward: x, gamma, beta, dy and the outputs of both paths. */
    record Case(int b, int c, int h, int w, int g, boolean silu, float offset, long seed) {
        float[][] run(boolean reference, boolean sequential) {
            JavaDevice j = TestDevices.java();
            int n = b * c * h * w;
            float[] x = randn(seed, n), ga = uniform(seed + 1, c, 0.5, 1.5), be = randn(seed + 2, c), dy = randn(seed + 3, n);
            for (int i = 0; i < n; i++) x[i] += offset;
            int[] s = {b, c, h * w};
            try (Tensor tx = Tensor.of(j, x, b, c, h, w); Tensor tg = Tensor.of(j, ga, c); Tensor tb = Tensor.of(j, be, c);
                 Tensor y = Tensor.allocate(j, b, c, h, w); Tensor mean = Tensor.allocate(j, b, g); Tensor rstd = Tensor.allocate(j, b, g);
                 Tensor tdy = Tensor.of(j, dy, b, c, h, w); Tensor dx = Tensor.allocate(j, b, c, h, w);
                 Tensor dg = Tensor.allocate(j, c); Tensor db = Tensor.allocate(j, c);
                 Tensor scratch = Tensor.allocate(j, GroupNorm.scratchShape(b, c))) {
                if (reference) {
                    GroupNormJava.forward(j, silu, y, mean, rstd, tx, tg, tb, s, g, EPS);
                    GroupNormJava.backward(j, silu, dx, dg, db, tdy, tx, tg, tb, mean, rstd, scratch, s, g);
                } else if (sequential) {   // one thread, groups in order
                    int cg = c / g;
                    for (int bg = 0; bg < b * g; bg++)
                        GroupNormVector.forwardGroup(silu, y.segment(), mean.segment(), rstd.segment(), tx.segment(), tg.segment(),
                                tb.segment(), bg, bg % g * cg, cg, h * w, EPS);
                    for (int bg = 0; bg < b * g; bg++)
                        GroupNormVector.backwardGroup(silu, dx.segment(), tdy.segment(), tx.segment(), tg.segment(), tb.segment(),
                                mean.segment(), rstd.segment(), scratch.segment(), bg, g, b, c, cg, h * w);
                    GroupNormJava.addParamPartials(dg, db, scratch, b, c);
                } else {
                    GroupNormVector.forward(j, silu, y, mean, rstd, tx, tg, tb, s, g, EPS);
                    GroupNormVector.backward(j, silu, dx, dg, db, tdy, tx, tg, tb, mean, rstd, scratch, s, g);
                }
                return new float[][]{y.toArray(), mean.toArray(), rstd.toArray(), dx.toArray(), dg.toArray(), db.toArray()};
            }
        }
    }

    static final String[] NAMES = {"y", "mean", "rstd", "dx", "dgamma", "dbeta"};

    @ParameterizedTest(name = "B={0} C={1} {2}x{3} G={4} silu={5} offset={6}")
    @CsvSource({"1, 32, 7, 7, 8, true, 0", "3, 12, 5, 7, 3, true, 0", "3, 5, 7, 7, 1, false, 0", "3, 300, 1, 1, 1, true, 0",
                "1, 64, 14, 14, 8, true, 0", "2, 64, 14, 14, 32, false, 0", "1, 4, 32, 32, 1, true, 0", "3, 6, 33, 31, 2, true, 0",
                "2, 8, 9, 9, 4, true, 1000", "1, 16, 28, 28, 8, false, -50"})
    void vectorPathMatchesTheReference(int b, int c, int h, int w, int g, boolean silu, float offset) {
        Case k = new Case(b, c, h, w, g, silu, offset, 31 + c + h);
        float[][] ref = k.run(true, false), vec = k.run(false, false);
        for (int i = 0; i < NAMES.length; i++) {
            double tol = i >= 4 ? 2e-4 : i == 3 ? 1e-4 : 2e-5;
            assertClose(ref[i], vec[i], tol, tol, NAMES[i] + " " + k);
        }
    }

    @ParameterizedTest(name = "B={0} C={1} {2}x{3} G={4}")
    @CsvSource({"3, 12, 28, 28, 3", "3, 64, 14, 14, 8", "2, 32, 7, 7, 8"})
    void resultsDoNotDependOnTheThreadCount(int b, int c, int h, int w, int g) {
        Case k = new Case(b, c, h, w, g, true, 0.5f, 77);
        float[][] parallel = k.run(false, false), sequential = k.run(false, true), again = k.run(false, false);
        for (int i = 0; i < NAMES.length; i++) {
            assertArrayEquals(sequential[i], parallel[i], NAMES[i] + ": parallel differs from one thread");
            assertArrayEquals(parallel[i], again[i], NAMES[i] + ": differs between runs");
        }
    }
}
