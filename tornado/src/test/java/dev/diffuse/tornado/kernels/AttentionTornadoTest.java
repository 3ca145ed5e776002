package dev.diffuse.tornado.kernels;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.diffuse.kernels.attention.Attention;
import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.tornado.Tasks;
import dev.diffuse.tornado.TornadoTests;
import dev.diffuse.tornado.kernels.AttentionTornado.Layout;

/**
 * TornadoVM attention forward against the Java device on odd token counts (not multiples of the 32-row tiles), in the
 * heads layout of {@link Attention} and in the U-Net's channel layout (Q, K, V packed as the 3C channels of one
 * tensor, O written as channels).
 */
class AttentionTornadoTest {
    static final JavaDevice J = TestDevices.java();

    @ParameterizedTest
    @CsvSource({"2, 1, 7, 5", "1, 2, 49, 32", "2, 3, 93, 17", "1, 1, 196, 64", "1, 2, 33, 128"})
    void headsLayoutMatchesJava(int b, int heads, int n, int d) {
        int size = b * heads * n * d;
        float[] q = Close.randn(1, size), k = Close.randn(2, size), v = Close.randn(3, size);
        float scale = (float) (1 / Math.sqrt(d));
        float[] expected;
        try (Tensor tq = Tensor.of(J, q, b, heads, n, d); Tensor tk = Tensor.of(J, k, b, heads, n, d); Tensor tv = Tensor.of(J, v, b, heads, n, d);
             Tensor to = Tensor.allocate(J, b, heads, n, d); Tensor lse = Tensor.allocate(J, b, heads, n)) {
            Attention.forward(to, lse, tq, tk, tv, scale);
            expected = to.toArray();
        }
        TornadoTests a = new TornadoTests();
        int oq = a.put(q), ok = a.put(k), ov = a.put(v), oo = a.zeros(size);
        Tasks t = a.tasks();
        Layout l = Layout.heads(heads, n, d);
        AttentionTornado.forward(t, a.array(), oo, oq, ok, ov, b, heads, n, d, l, l, scale);
        a.run(t);
        Close.assertClose(expected, a.read(oo, size), 1e-5, 1e-4, "attention " + b + "x" + heads + "x" + n + "x" + d);
    }

    @ParameterizedTest
    @CsvSource({"2, 2, 49, 32", "1, 3, 23, 7"})
    void channelLayoutMatchesJava(int b, int heads, int n, int d) {
        int c = heads * d, size = b * c * n;
        float[] qkv = Close.randn(4, 3 * size);
        float scale = (float) (1 / Math.sqrt(d));
        float[] expected;
        try (Tensor all = Tensor.of(J, qkv, b, 3 * c, n); Tensor q = Tensor.allocate(J, b, c, n); Tensor k = Tensor.allocate(J, b, c, n);
             Tensor v = Tensor.allocate(J, b, c, n); Tensor qh = Tensor.allocate(J, b, heads, n, d); Tensor kh = Tensor.allocate(J, b, heads, n, d);
             Tensor vh = Tensor.allocate(J, b, heads, n, d); Tensor oh = Tensor.allocate(J, b, heads, n, d);
             Tensor lse = Tensor.allocate(J, b, heads, n); Tensor o = Tensor.allocate(J, b, c, n)) {
            float[] x = all.toArray(), qa = new float[size], ka = new float[size], va = new float[size];
            for (int bi = 0; bi < b; bi++) {
                System.arraycopy(x, bi * 3 * c * n, qa, bi * c * n, c * n);
                System.arraycopy(x, bi * 3 * c * n + c * n, ka, bi * c * n, c * n);
                System.arraycopy(x, bi * 3 * c * n + 2 * c * n, va, bi * c * n, c * n);
            }
            q.upload(qa);
            k.upload(ka);
            v.upload(va);
            Attention.channelsToHeads(qh, q.reshape(b, c, n, 1), heads);
            Attention.channelsToHeads(kh, k.reshape(b, c, n, 1), heads);
            Attention.channelsToHeads(vh, v.reshape(b, c, n, 1), heads);
            Attention.forward(oh, lse, qh, kh, vh, scale);
            Attention.headsToChannels(o.reshape(b, c, n, 1), oh, heads);
            expected = o.toArray();
        }
        TornadoTests a = new TornadoTests();
        int oqkv = a.put(qkv), oo = a.zeros(size);
        Tasks t = a.tasks();
        AttentionTornado.forward(t, a.array(), oo, oqkv, oqkv + c * n, oqkv + 2 * c * n, b, heads, n, d,
                Layout.channels(3 * c, n, d), Layout.channels(c, n, d), scale);
        a.run(t);
        Close.assertClose(expected, a.read(oo, size), 1e-5, 1e-4, "attention in channel layout");
    }
}
