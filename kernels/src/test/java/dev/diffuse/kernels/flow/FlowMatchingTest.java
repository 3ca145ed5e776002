package dev.diffuse.kernels.flow;

import static dev.diffuse.runtime.Close.assertClose;
import static dev.diffuse.runtime.Close.randn;

import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Philox;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;

/** The flow-matching pair x_t = (1 - t) eps + t x0, target = x0 - eps: definition, given and drawn eps, both devices. */
class FlowMatchingTest {
    @ParameterizedTest(name = "B={0} per={1}")
    @CsvSource({"1, 7", "3, 147", "5, 1001"})
    void matchesDefinition(int batch, int per) {
        int n = batch * per;
        float[] x0 = randn(1, n), eps = randn(2, n), t = new float[batch], z = new float[n];
        for (int b = 0; b < batch; b++) t[b] = (b + 0.5f) / batch;
        t[0] = 0; // pure noise
        Philox.normals(9, 4, 0, z, 0, n);
        float[] xt = new float[n], tg = new float[n], xtd = new float[n], tgd = new float[n];
        for (int i = 0; i < n; i++) {
            float tb = t[i / per];
            xt[i] = (1 - tb) * eps[i] + tb * x0[i];
            tg[i] = x0[i] - eps[i];
            xtd[i] = (1 - tb) * z[i] + tb * x0[i];
            tgd[i] = x0[i] - z[i];
        }
        for (Device d : List.of(TestDevices.java(), TestDevices.openCl())) {
            try (Tensor tx = Tensor.of(d, x0, batch, per); Tensor te = Tensor.of(d, eps, batch, per); Tensor tt = Tensor.of(d, t, batch);
                 Tensor oxt = Tensor.allocate(d, batch, per); Tensor otg = Tensor.allocate(d, batch, per)) {
                FlowMatching.pair(oxt, otg, tx, te, tt);
                assertClose(xt, oxt.toArray(), 1e-6, 1e-6, "x_t on " + d.id());
                assertClose(tg, otg.toArray(), 1e-6, 1e-6, "target on " + d.id());
                FlowMatching.pairDrawn(oxt, otg, tx, tt, 9, 4);
                assertClose(xtd, oxt.toArray(), 2e-6, 2e-6, "x_t with drawn eps on " + d.id());
                assertClose(tgd, otg.toArray(), 2e-6, 2e-6, "target with drawn eps on " + d.id());
            }
        }
    }
}
