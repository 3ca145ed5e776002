package dev.diffuse.models.unet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;

class UNetModelTest {
    static final float[] T3 = {3f, 500f, 999f};
    static final float[] L3 = {2f, 0f, 2f};

    /** Everything one forward+backward produces, read back to the host. */
    record Run(float[] out, float[] dx, Map<String, float[]> grads) {}

    static Run run(UNet2DModel m, float[] x, float[] t, float[] labels, float[] r) {
        Device d = m.device();
        int b = t.length;
        int[] ss = m.sampleShape();
        UNetConfig c = m.config();
        try (Tensor xt = Tensor.of(d, x, b, ss[0], ss[1], ss[2]); Tensor tt = Tensor.of(d, t, b);
             Tensor lt = labels == null ? null : Tensor.of(d, labels, b);
             Tensor out = Tensor.allocate(d, b, c.outChannels(), ss[1], ss[2]);
             Tensor dOut = Tensor.of(d, r, b, c.outChannels(), ss[1], ss[2]); Tensor dx = Tensor.allocate(d, xt.shape())) {
            m.zeroGradients();
            m.forward(out, xt, tt, lt);
            m.backward(dOut, dx);
            Map<String, float[]> g = new LinkedHashMap<>();
            m.namedGradients().forEach((n, v) -> g.put(n, v.toArray()));
            return new Run(out.toArray(), dx.toArray(), g);
        }
    }

    static void copyParams(UNet2DModel from, UNet2DModel to) {
        from.namedParameters().forEach((n, v) -> to.namedParameters().get(n).upload(v.toArray()));
    }

    static int inputSize(UNet2DModel m, int b) {
        int[] s = m.sampleShape();
        return b * s[0] * s[1] * s[2];
    }

    static int outputSize(UNet2DModel m, int b) {
        int[] s = m.sampleShape();
        return b * m.config().outChannels() * s[1] * s[2];
    }

    @Test
    void forwardShapesAndArgumentErrors() {
        Device j = TestDevices.java();
        try (UNet2DModel m = new UNet2DModel(UNetConfig.tiny(), j, 4)) {
            m.initialize(1);
            assertArrayEquals(new int[]{2, 8, 8}, m.sampleShape());
            assertEquals(UNet2DModel.parameterCount(UNetConfig.tiny()), m.namedParameters().values().stream().mapToLong(Tensor::numel).sum());
            assertTrue(m.parameters().numel() >= UNet2DModel.parameterCount(UNetConfig.tiny()));
            try (Tensor x = Tensor.of(j, Close.randn(2, 3 * 128), 3, 2, 8, 8); Tensor t = Tensor.of(j, T3, 3);
                 Tensor l = Tensor.of(j, L3, 3); Tensor out = Tensor.allocate(j, 3, 2, 8, 8);
                 Tensor big = Tensor.allocate(j, 5, 2, 8, 8); Tensor t5 = Tensor.allocate(j, 5)) {
                m.forward(out, x, t, l);
                for (float v : out.toArray()) assertTrue(Float.isFinite(v));
                var e = assertThrows(IllegalArgumentException.class, () -> m.forward(out, x, t, null));
                assertTrue(e.getMessage().contains("class labels"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class, () -> m.forward(big, big, t5, null));
                assertTrue(e.getMessage().contains("maxBatch"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class, () -> m.forward(out, out.reshape(3, 2, 4, 16), t, l));
                assertTrue(e.getMessage().contains("sample_size"), e.getMessage());
            }
        }
        try (UNet2DModel m = new UNet2DModel(UNetConfig.small(), j, 2, false)) {
            assertThrows(IllegalStateException.class, m::gradients);
            try (Tensor x = Tensor.allocate(j, 2, 1, 28, 28); Tensor t = Tensor.of(j, new float[]{1, 2}, 2);
                 Tensor out = Tensor.allocate(j, 2, 1, 28, 28)) {
                m.initialize(3);
                m.forward(out, x, t);
                assertThrows(IllegalStateException.class, () -> m.backward(out, null));
            }
        }
    }

    /**
     * Whole-model gradient check on tiny(): loss = sum(out * R) in double, central differences with h = 1e-2 on
     * ~40 parameter coordinates (every layer kind) and 10 input coordinates. The forward is float: each loss
     * evaluation carries rounding noise of ~1e-7 relative to sum |out * R| (~100 here), which divided by 2h is
     * ~1e-3 absolute, and the O(h^2) truncation term of the GroupNorm/SiLU/softmax curvature adds ~1e-4 relative;
     * hence a tolerance of 3e-2 relative plus an absolute floor of 3e-3. The ops themselves have double-precision FD
     * checks (1e-6) in the kernels module; this test catches wiring errors (a wrong skip, a missing time-embedding
     * path, a gradient not accumulated), which show up as O(1) relative errors.
     */
    @Test
    void wholeModelGradientCheck() {
        Device j = TestDevices.java();
        int b = 3;
        try (UNet2DModel m = new UNet2DModel(UNetConfig.tiny(), j, b)) {
            m.initialize(7);
            float[] x = Close.randn(11, inputSize(m, b)), r = Close.randn(12, outputSize(m, b));
            Run base = run(m, x, T3, L3, r);
            List<String> names = new ArrayList<>(m.namedParameters().keySet());
            java.util.SplittableRandom rnd = new java.util.SplittableRandom(5);
            List<String> picks = new ArrayList<>(List.of("conv_in.weight", "time_embedding.linear_1.weight",
                    "time_embedding.linear_2.bias", "class_embedding.weight", "down_blocks.0.resnets.0.norm1.weight",
                    "down_blocks.0.resnets.0.time_emb_proj.weight", "down_blocks.1.attentions.0.to_q.weight",
                    "down_blocks.1.attentions.0.to_k.bias", "down_blocks.1.attentions.0.to_v.weight",
                    "down_blocks.1.attentions.0.to_out.0.weight", "down_blocks.1.attentions.0.group_norm.bias",
                    "down_blocks.0.downsamplers.0.conv.weight", "mid_block.attentions.0.to_q.weight",
                    "mid_block.resnets.1.conv2.weight", "up_blocks.0.resnets.1.conv_shortcut.weight",
                    "up_blocks.0.upsamplers.0.conv.weight", "up_blocks.1.resnets.0.conv1.weight", "conv_norm_out.weight",
                    "conv_out.bias", "up_blocks.1.resnets.1.norm2.bias"));
            while (picks.size() < 40) picks.add(names.get(rnd.nextInt(names.size())));
            double worst = 0;
            String worstWhat = "";
            for (String n : picks) {
                Tensor p = m.namedParameters().get(n);
                float[] v = p.toArray();
                int i = rnd.nextInt(v.length);
                if (n.equals("class_embedding.weight")) i = 2 * 32 + rnd.nextInt(32);  // a row a label uses
                double an = base.grads().get(n)[i];
                float keep = v[i];
                v[i] = keep + 1e-2f;
                p.upload(v);
                double lp = loss(m, x, r, b);
                v[i] = keep - 1e-2f;
                p.upload(v);
                double lm = loss(m, x, r, b);
                v[i] = keep;
                p.upload(v);
                double fd = (lp - lm) / (((double) (keep + 1e-2f)) - ((double) (keep - 1e-2f)));
                double err = Math.abs(fd - an) / (Math.abs(an) * 3e-2 + 3e-3);
                if (err > worst) { worst = err; worstWhat = n + "[" + i + "] fd " + fd + " backward " + an; }
                assertTrue(err <= 1, n + "[" + i + "]: finite difference " + fd + " vs backward " + an);
            }
            for (int k = 0; k < 10; k++) {
                int i = rnd.nextInt(x.length);
                float keep = x[i];
                x[i] = keep + 1e-2f;
                double lp = loss(m, x, r, b);
                x[i] = keep - 1e-2f;
                double lm = loss(m, x, r, b);
                x[i] = keep;
                double fd = (lp - lm) / (((double) (keep + 1e-2f)) - ((double) (keep - 1e-2f)));
                double an = base.dx()[i];
                assertTrue(Math.abs(fd - an) <= Math.abs(an) * 3e-2 + 3e-3, "x[" + i + "]: finite difference " + fd + " vs dx " + an);
            }
            System.out.println("whole-model FD check: worst error / tolerance " + worst + " at " + worstWhat);
        }
    }

    private static double loss(UNet2DModel m, float[] x, float[] r, int b) {
        float[] o = forwardOnce(m, x, java.util.Arrays.copyOf(T3, b), java.util.Arrays.copyOf(L3, b));
        double sum = 0;
        for (int i = 0; i < o.length; i++) sum += (double) o[i] * r[i];
        return sum;
    }

    /**
     * An inference model shares activation memory between layers whose lifetimes do not meet (Graph#plan): it must
     * give the bits of a training model (every activation in its own buffer) on both devices, at the full and a
     * partial batch, and take less memory.
     */
    @Test
    void inferenceMemoryPlanGivesTheSameBits() {
        for (Device d : new Device[]{TestDevices.java(), TestDevices.openCl()}) {
            for (UNetConfig cfg : new UNetConfig[]{UNetConfig.tiny(), UNetConfig.small()}) {
                int b = 3;
                try (UNet2DModel train = new UNet2DModel(cfg, d, b, true); UNet2DModel infer = new UNet2DModel(cfg, d, b, false)) {
                    train.initialize(13);
                    copyParams(train, infer);
                    float[] labels = cfg.numClassEmbeds() != null ? L3 : null;
                    for (int bb : new int[]{b, 2}) {
                        float[] x = Close.randn(41 + bb, inputSize(train, bb));
                        float[] t = java.util.Arrays.copyOf(T3, bb), l = labels == null ? null : java.util.Arrays.copyOf(labels, bb);
                        assertArrayEquals(forwardOnce(train, x, t, l), forwardOnce(infer, x, t, l), d.id() + " " + cfg.sampleSize() + " batch " + bb);
                    }
                    assertEquals(UNet2DModel.bytesNeeded(cfg, b, false), infer.allocatedBytes());
                    Graph g = new Tape(cfg, 64, false).g;
                    long planned = g.activationFloats(true), each = g.activationFloats(false);
                    assertTrue(planned < each / 2, "the plan should at least halve the activations: " + planned + " of " + each);
                    System.out.printf("inference activations of a %dx%d U-Net at batch 64: %.1f MiB planned, %.1f MiB one buffer each%n",
                            cfg.sampleSize(), cfg.sampleSize(), planned / 262144.0, each / 262144.0);
                }
            }
        }
    }

    private static float[] forwardOnce(UNet2DModel m, float[] x, float[] t, float[] labels) {
        Device d = m.device();
        int b = t.length;
        int[] s = m.sampleShape();
        try (Tensor xt = Tensor.of(d, x, b, s[0], s[1], s[2]); Tensor tt = Tensor.of(d, t, b);
             Tensor lt = labels == null ? null : Tensor.of(d, labels, b);
             Tensor out = Tensor.allocate(d, b, m.config().outChannels(), s[1], s[2])) {
            m.forward(out, xt, tt, lt);
            return out.toArray();
        }
    }

    @Test
    void javaIsDeterministic() {
        Device j = TestDevices.java();
        try (UNet2DModel m = new UNet2DModel(UNetConfig.tiny(), j, 3)) {
            m.initialize(9);
            float[] x = Close.randn(1, inputSize(m, 3)), r = Close.randn(2, outputSize(m, 3));
            Run a = run(m, x, T3, L3, r), c = run(m, x, T3, L3, r);
            assertArrayEquals(a.out(), c.out());
            assertArrayEquals(a.dx(), c.dx());
            a.grads().forEach((n, v) -> assertArrayEquals(v, c.grads().get(n), n));
        }
    }

    @Test
    void openClMatchesJavaOnTiny() {
        compareDevices(UNetConfig.tiny(), 3, T3, L3);
    }

    @Test
    void openClMatchesJavaOnSmallBatch2() {
        compareDevices(UNetConfig.small(), 2, new float[]{10f, 900f}, null);
    }

    static void compareDevices(UNetConfig cfg, int b, float[] t, float[] labels) {
        Device cl = TestDevices.openCl();
        try (UNet2DModel mj = new UNet2DModel(cfg, TestDevices.java(), b); UNet2DModel mc = new UNet2DModel(cfg, cl, b)) {
            mj.initialize(21);
            copyParams(mj, mc);
            float[] x = Close.randn(31, inputSize(mj, b)), r = Close.randn(32, outputSize(mj, b));
            Run rj = run(mj, x, t, labels, r), rc = run(mc, x, t, labels, r);
            closeToMax(rj.out(), rc.out(), "output");
            closeToMax(rj.dx(), rc.dx(), "dx");
            rj.grads().forEach((n, v) -> {
                if (n.endsWith("to_k.bias")) {
                    // softmax is invariant to adding q.b_k to a whole row of scores: this gradient is exactly 0 in
                    // exact arithmetic, so both devices hold rounding noise; bound it by the key weights' scale
                    float[] w = rj.grads().get(n.replace(".bias", ".weight"));
                    double max = 0;
                    for (float e : w) max = Math.max(max, Math.abs(e));
                    Close.assertClose(v, rc.grads().get(n), 1e-4 * max, 0, "gradient of " + n + " (zero up to rounding)");
                } else closeToMax(v, rc.grads().get(n), "gradient of " + n);
            });
            Run rc2 = run(mc, x, t, labels, r);
            assertArrayEquals(rc.out(), rc2.out(), "OpenCL output bit-identical on a second run");
            rc.grads().forEach((n, v) -> assertArrayEquals(v, rc2.grads().get(n), "OpenCL gradient of " + n + " bit-identical"));
        }
    }

    /** |a - b| <= 1e-4 * max |a| (+ tiny floor): the devices sum in different orders. */
    static void closeToMax(float[] expected, float[] actual, String what) {
        double max = 0;
        for (float v : expected) max = Math.max(max, Math.abs(v));
        Close.assertClose(expected, actual, 1e-4 * max + 1e-7, 0, what);
    }
}
