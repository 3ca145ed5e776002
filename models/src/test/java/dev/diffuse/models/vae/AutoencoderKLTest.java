package dev.diffuse.models.vae;

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

class AutoencoderKLTest {
    static final long SEED = 3, STREAM = 11;
    static final float KL_W = 0.05f;

    /** Output, KL sum and every gradient of one training forward + backward with dRecon = r. */
    record Run(float[] recon, float kl, Map<String, float[]> grads) {}

    static Run run(AutoencoderKL m, float[] x, float[] r) {
        Device d = m.device();
        AutoencoderKLConfig c = m.config();
        int b = x.length / (c.inChannels() * c.sampleSize() * c.sampleSize()), s = c.sampleSize();
        try (Tensor xt = Tensor.of(d, x, b, c.inChannels(), s, s); Tensor out = Tensor.allocate(d, b, c.outChannels(), s, s);
             Tensor kl = Tensor.allocate(d, 1); Tensor dr = Tensor.of(d, r, b, c.outChannels(), s, s)) {
            m.zeroGradients();
            m.forward(out, kl, xt, SEED, STREAM);
            m.backward(dr, KL_W);
            Map<String, float[]> g = new LinkedHashMap<>();
            m.namedGradients().forEach((n, v) -> g.put(n, v.toArray()));
            return new Run(out.toArray(), kl.toArray()[0], g);
        }
    }

    /** L = sum(recon * r) + KL_W * klSum, in double over the float forward. */
    static double loss(AutoencoderKL m, float[] x, float[] r) {
        Device d = m.device();
        AutoencoderKLConfig c = m.config();
        int s = c.sampleSize(), b = x.length / (c.inChannels() * s * s);
        try (Tensor xt = Tensor.of(d, x, b, c.inChannels(), s, s); Tensor out = Tensor.allocate(d, b, c.outChannels(), s, s);
             Tensor kl = Tensor.allocate(d, 1)) {
            m.forward(out, kl, xt, SEED, STREAM);
            float[] o = out.toArray();
            double sum = 0;
            for (int i = 0; i < o.length; i++) sum += (double) o[i] * r[i];
            return sum + KL_W * (double) kl.toArray()[0];
        }
    }

    @Test
    void diffusersLayoutAndSizes() {
        Map<String, int[]> l = AutoencoderKL.layout(AutoencoderKLConfig.fashionMnist());
        for (String n : List.of("encoder.conv_in.weight", "encoder.down_blocks.0.resnets.0.norm1.weight",
                "encoder.down_blocks.0.downsamplers.0.conv.weight", "encoder.down_blocks.1.resnets.0.conv_shortcut.weight",
                "encoder.mid_block.attentions.0.to_q.weight", "encoder.mid_block.attentions.0.group_norm.bias",
                "encoder.mid_block.resnets.1.conv2.bias", "encoder.conv_norm_out.weight", "encoder.conv_out.weight", "quant_conv.weight",
                "post_quant_conv.bias", "decoder.conv_in.weight", "decoder.mid_block.attentions.0.to_out.0.weight",
                "decoder.up_blocks.0.resnets.1.conv1.weight", "decoder.up_blocks.1.upsamplers.0.conv.weight",
                "decoder.up_blocks.2.resnets.0.conv_shortcut.weight", "decoder.conv_out.bias"))
            assertTrue(l.containsKey(n), "missing " + n);
        assertArrayEquals(new int[]{8, 64, 3, 3}, l.get("encoder.conv_out.weight"));      // 2L = 8 channels of moments
        assertArrayEquals(new int[]{64, 64}, l.get("encoder.mid_block.attentions.0.to_q.weight"));
        assertArrayEquals(new int[]{1, 32, 3, 3}, l.get("decoder.conv_out.weight"));
        assertTrue(l.keySet().stream().noneMatch(n -> n.contains("time_emb_proj")), "the VAE's resnets have no time embedding");
        assertArrayEquals(new int[]{4, 8, 8}, AutoencoderKLConfig.fashionMnist().latentShape());
        double[] f = AutoencoderKL.forwardFlops(AutoencoderKLConfig.fashionMnist(), 1);
        assertTrue(f[0] > 5e7 && f[1] > f[0], "encoder " + f[0] + ", decoder " + f[1] + " FLOPs per image");
    }

    @Test
    void shapesAndArgumentErrors() {
        Device j = TestDevices.java();
        AutoencoderKLConfig c = AutoencoderKLConfig.tiny();
        try (AutoencoderKL m = new AutoencoderKL(c, j, 3, true); Tensor x = Tensor.of(j, Close.randn(1, 2 * 128), 2, 2, 8, 8);
             Tensor mo = Tensor.allocate(j, 2, 6, 4, 4); Tensor z = Tensor.allocate(j, 2, 3, 4, 4); Tensor y = Tensor.allocate(j, 2, 2, 8, 8);
             Tensor big = Tensor.allocate(j, 4, 2, 8, 8)) {
            m.initialize(1);
            m.encode(mo, x);
            m.encodeMean(z, x);
            float[] moments = mo.toArray(), mean = z.toArray();
            for (int b = 0; b < 2; b++)  // the mean is the first L channels of the moments
                for (int i = 0; i < 48; i++) assertEquals(moments[b * 96 + i], mean[b * 48 + i]);
            m.decode(y, z);
            for (float v : y.toArray()) assertTrue(Float.isFinite(v));
            String e = assertThrows(IllegalArgumentException.class, () -> m.encode(mo, big)).getMessage();
            assertTrue(e.contains("maxBatch"), e);
            e = assertThrows(IllegalArgumentException.class, () -> m.decode(y, mo)).getMessage();
            assertTrue(e.contains("(B, 3, 4, 4)"), e);
            e = assertThrows(IllegalStateException.class, () -> m.backward(y, 0f)).getMessage();
            assertTrue(e.contains("training forward"), e);
        }
        try (AutoencoderKL m = new AutoencoderKL(c, j, 1, false)) {
            assertThrows(IllegalStateException.class, m::gradients);
        }
    }

    /**
     * Whole-model gradient check on tiny() (every layer kind of both halves, the posterior's sample and KL): loss =
     * sum(recon * R) + w KL with the same noise in every evaluation, central differences with h = 1e-2 on ~40 parameter
     * coordinates; tolerances as the U-Net's (float forward: ~1e-3 absolute noise in the difference quotient).
     */
    @Test
    void wholeModelGradientCheck() {
        Device j = TestDevices.java();
        int b = 2;
        try (AutoencoderKL m = new AutoencoderKL(AutoencoderKLConfig.tiny(), j, b, true)) {
            m.initialize(7);
            float[] x = new float[b * 128];
            new Stripes(16).fill(new int[]{1, 6}, x, null);
            float[] r = Close.randn(12, b * 128);
            Run base = run(m, x, r);
            List<String> names = new ArrayList<>(m.namedParameters().keySet());
            java.util.SplittableRandom rnd = new java.util.SplittableRandom(5);
            List<String> picks = new ArrayList<>(List.of("encoder.conv_in.weight", "encoder.down_blocks.0.resnets.0.norm1.weight",
                    "encoder.down_blocks.0.downsamplers.0.conv.weight", "encoder.down_blocks.1.resnets.0.conv_shortcut.bias",
                    "encoder.mid_block.attentions.0.to_q.weight", "encoder.mid_block.attentions.0.to_v.bias",
                    "encoder.mid_block.attentions.0.group_norm.weight", "encoder.conv_norm_out.bias", "encoder.conv_out.weight",
                    "quant_conv.weight", "quant_conv.bias", "post_quant_conv.weight", "decoder.conv_in.bias",
                    "decoder.mid_block.resnets.0.conv1.weight", "decoder.mid_block.attentions.0.to_out.0.weight",
                    "decoder.up_blocks.0.upsamplers.0.conv.weight", "decoder.up_blocks.1.resnets.0.conv_shortcut.weight",
                    "decoder.up_blocks.1.resnets.1.norm2.bias", "decoder.conv_out.weight"));
            while (picks.size() < 40) picks.add(names.get(rnd.nextInt(names.size())));
            double worst = 0;
            for (String n : picks) {
                Tensor p = m.namedParameters().get(n);
                float[] v = p.toArray();
                int i = rnd.nextInt(v.length);
                double an = base.grads().get(n)[i];
                float keep = v[i];
                v[i] = keep + 1e-2f;
                p.upload(v);
                double lp = loss(m, x, r);
                v[i] = keep - 1e-2f;
                p.upload(v);
                double lm = loss(m, x, r);
                v[i] = keep;
                p.upload(v);
                double fd = (lp - lm) / (((double) (keep + 1e-2f)) - ((double) (keep - 1e-2f)));
                double err = Math.abs(fd - an) / (Math.abs(an) * 3e-2 + 3e-3);
                worst = Math.max(worst, err);
                assertTrue(err <= 1, n + "[" + i + "]: finite difference " + fd + " vs backward " + an);
            }
            System.out.println("VAE whole-model FD check: worst error / tolerance " + worst);
        }
    }

    @Test
    void javaIsDeterministicAndOpenClMatchesIt() {
        AutoencoderKLConfig c = AutoencoderKLConfig.tiny();
        int b = 3;
        float[] x = Close.randn(31, b * 128), r = Close.randn(32, b * 128);
        try (AutoencoderKL mj = new AutoencoderKL(c, TestDevices.java(), b, true);
             AutoencoderKL mc = new AutoencoderKL(c, TestDevices.openCl(), b, true)) {
            mj.initialize(21);
            mj.namedParameters().forEach((n, v) -> mc.namedParameters().get(n).upload(v.toArray()));
            Run a = run(mj, x, r), a2 = run(mj, x, r), cl = run(mc, x, r), cl2 = run(mc, x, r);
            assertArrayEquals(a.recon(), a2.recon());
            a.grads().forEach((n, v) -> assertArrayEquals(v, a2.grads().get(n), "Java gradient of " + n + " bit-identical"));
            closeToMax(a.recon(), cl.recon(), "reconstruction");
            Close.assertClose(new float[]{a.kl()}, new float[]{cl.kl()}, 1e-4 * Math.abs(a.kl()), 0, "KL");
            a.grads().forEach((n, v) -> {
                if (n.endsWith("to_k.bias")) return;  // exactly 0 up to rounding (softmax is shift-invariant): see UNetModelTest
                closeToMax(v, cl.grads().get(n), "gradient of " + n);
            });
            assertArrayEquals(cl.recon(), cl2.recon(), "OpenCL bit-identical on a second run");
        }
    }

    static void closeToMax(float[] expected, float[] actual, String what) {
        double max = 0;
        for (float v : expected) max = Math.max(max, Math.abs(v));
        Close.assertClose(expected, actual, 1e-4 * max + 1e-7, 0, what);
    }
}
