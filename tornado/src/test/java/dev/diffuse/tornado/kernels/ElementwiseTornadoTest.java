package dev.diffuse.tornado.kernels;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.diffuse.kernels.activation.Activation;
import dev.diffuse.kernels.elementwise.Elementwise;
import dev.diffuse.kernels.embedding.TimestepEmbedding;
import dev.diffuse.kernels.lookup.Lookup;
import dev.diffuse.kernels.shape.ShapeOps;
import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.tornado.Tasks;
import dev.diffuse.tornado.TornadoTests;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;

/** The TornadoVM elementwise, shape and embedding ops of the U-Net forward against the Java device, on odd sizes. */
class ElementwiseTornadoTest {
    static final JavaDevice J = TestDevices.java();

    @ParameterizedTest
    @ValueSource(ints = {1, 93, 1027})
    void siluAddAffineBroadcastAddAndCopyMatchJava(int hw) {
        int b = 2, c = 3, n = b * c * hw;
        float[] x = Close.randn(1, n), y = Close.randn(2, n), e = Close.randn(3, b * c);
        float[] silu, sum, affine, bcast;
        try (Tensor tx = Tensor.of(J, x, b, c, hw, 1); Tensor ty = Tensor.of(J, y, b, c, hw, 1); Tensor te = Tensor.of(J, e, b, c);
             Tensor out = Tensor.allocate(J, b, c, hw, 1); Tensor ones = Tensor.allocate(J, b, c, hw, 1)) {
            Activation.silu(out, tx);
            silu = out.toArray();
            Elementwise.add(out, tx, ty);
            sum = out.toArray();
            Elementwise.fill(ones, 1f);
            Elementwise.axpby(out, 2f, tx, -1f, ones);
            affine = out.toArray();
            ShapeOps.addBroadcast(out, tx, te);
            bcast = out.toArray();
        }
        TornadoTests a = new TornadoTests();
        int ox = a.put(x), oy = a.put(y), oe = a.put(e), o1 = a.zeros(n), o2 = a.zeros(n), o3 = a.zeros(n), o4 = a.zeros(n), o5 = a.zeros(n),
                o6 = a.zeros(n);
        Tasks t = a.tasks();
        ElementwiseTornado.silu(t, a.array(), o1, ox, n);
        ElementwiseTornado.add(t, a.array(), o2, ox, oy, n);
        ElementwiseTornado.affine(t, a.array(), o3, ox, 2f, -1f, n);
        ElementwiseTornado.addBroadcast(t, a.array(), o4, ox, oe, hw, n);
        ElementwiseTornado.copy(t, a.array(), o5, oy, n);
        ElementwiseTornado.siluIndexed(t, a.array(), o6, ox, n);
        a.run(t);
        Close.assertClose(silu, a.read(o1, n), 1e-6, 1e-6, "silu");
        Close.assertClose(silu, a.read(o6, n), 1e-6, 1e-6, "silu, KernelContext form");
        Close.assertClose(sum, a.read(o2, n), 0, 0, "add");
        Close.assertClose(affine, a.read(o3, n), 1e-6, 1e-6, "2x - 1");
        Close.assertClose(bcast, a.read(o4, n), 0, 0, "add broadcast");
        Close.assertClose(y, a.read(o5, n), 0, 0, "copy");
    }

    @Test
    void concatAndUpsampleMatchJava() {
        int b = 2, ca = 3, cb = 5, h = 7, w = 5, hw = h * w;
        float[] x = Close.randn(4, b * ca * hw), y = Close.randn(5, b * cb * hw);
        float[] cat, up;
        try (Tensor tx = Tensor.of(J, x, b, ca, h, w); Tensor ty = Tensor.of(J, y, b, cb, h, w);
             Tensor tc = Tensor.allocate(J, b, ca + cb, h, w); Tensor tu = Tensor.allocate(J, b, ca, 2 * h, 2 * w)) {
            ShapeOps.concatChannels(tc, tx, ty);
            ShapeOps.upsampleNearest2x(tu, tx);
            cat = tc.toArray();
            up = tu.toArray();
        }
        TornadoTests a = new TornadoTests();
        int ox = a.put(x), oy = a.put(y), oc = a.zeros(cat.length), ou = a.zeros(up.length);
        Tasks t = a.tasks();
        ShapeTornado.concatChannels(t, a.array(), oc, ox, oy, b, ca, cb, hw);
        ShapeTornado.upsampleNearest2x(t, a.array(), ou, ox, b, ca, h, w);
        a.run(t);
        Close.assertClose(cat, a.read(oc, cat.length), 0, 0, "concat channels");
        Close.assertClose(up, a.read(ou, up.length), 0, 0, "upsample nearest 2x");
    }

    @ParameterizedTest
    @ValueSource(ints = {32, 33})
    void timestepEmbeddingAndClassLookupMatchJava(int dim) {
        float[] steps = {0f, 1f, 999f, 480.5f, 37f}, table = Close.randn(6, 4 * dim), labels = {3f, 0f, 1f, 3f, 2f};
        int b = steps.length;
        float[] flipped, plain, looked;
        try (Tensor ts = Tensor.of(J, steps, b); Tensor out = Tensor.allocate(J, b, dim); Tensor tt = Tensor.of(J, table, 4, dim);
             Tensor tl = Tensor.of(J, labels, b)) {
            TimestepEmbedding.sinusoidal(out, ts, true, 0f);
            flipped = out.toArray();
            TimestepEmbedding.sinusoidal(out, ts, false, 1f);
            plain = out.toArray();
            Lookup.addRows(out, tt, tl);
            looked = out.toArray();
        }
        TornadoTests a = new TornadoTests(), par = new TornadoTests();
        int os = a.put(steps), ol = a.put(labels), o1 = a.zeros(b * dim), o2 = a.zeros(b * dim), ot = par.put(table);
        Tasks t = a.tasks();
        t.graph().transferToDevice(DataTransferMode.EVERY_EXECUTION, par.array());
        EmbeddingTornado.sinusoidal(t, a.array(), o1, os, b, dim, true, 0f);
        EmbeddingTornado.sinusoidal(t, a.array(), o2, os, b, dim, false, 1f);
        EmbeddingTornado.lookupAdd(t, a.array(), par.array(), o2, ot, ol, b, dim, 4);
        a.run(t);
        Close.assertClose(flipped, a.read(o1, b * dim), 1e-6, 1e-6, "timestep embedding, flip_sin_to_cos, shift 0");
        Close.assertClose(looked, a.read(o2, b * dim), 1e-6, 1e-6, "timestep embedding, shift 1, + class rows");
        org.junit.jupiter.api.Assertions.assertEquals(plain.length, looked.length);
    }
}
