package dev.diffuse.tornado;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.diffuse.models.unet.UNet2DModel;
import dev.diffuse.models.unet.UNetConfig;
import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;

/**
 * The TornadoVM U-Net forward against the Java device's {@link UNet2DModel} with the same (randomly initialised)
 * weights, on the tiny config (class embedding, asymmetric downsample padding, mid-block output scaling 1.5, two-head
 * attention, freq_shift 1 without flip) with center_input_sample on: every branch of the graph builder that the
 * shipped model (run end to end by {@link DdimTornadoTest}) does not take.
 */
class UNetTornadoTest {
    static float[] javaForward(UNet2DModel m, float[] x, float[] t, float[] labels) {
        int b = t.length;
        int[] s = m.sampleShape();
        try (Tensor tx = Tensor.of(m.device(), x, b, s[0], s[1], s[2]); Tensor tt = Tensor.of(m.device(), t, b);
             Tensor tl = labels == null ? null : Tensor.of(m.device(), labels, b);
             Tensor out = Tensor.allocate(m.device(), b, m.config().outChannels(), s[1], s[2])) {
            m.forward(out, tx, tt, tl);
            return out.toArray();
        }
    }

    /** |e - a| <= 1e-4 max|e| everywhere: the project's parity tolerance for whole-network outputs (UNetModelTest). */
    static void closeToMax(float[] expected, float[] actual, String what) {
        double max = 0;
        for (float v : expected) max = Math.max(max, Math.abs(v));
        Close.assertClose(expected, actual, 1e-4 * max + 1e-7, 0, what);
    }

    /**
     * The tiny config plus center_input_sample, in one plan (each plan compiles every task once: about a minute of CPU
     * on the 2-core CI machine, so the variants share one).
     */
    @Test
    void tinyConfigVariantsForwardMatchesJava() {
        UNetConfig t = UNetConfig.tiny();
        UNetConfig c = new UNetConfig(t.sampleSize(), t.inChannels(), t.outChannels(), true, t.timeEmbeddingDim(), t.freqShift(),
                t.flipSinToCos(), t.downBlockTypes(), t.midBlockType(), t.upBlockTypes(), t.blockOutChannels(), t.layersPerBlock(),
                t.midBlockScaleFactor(), t.downsamplePadding(), t.attentionHeadDim(), t.normNumGroups(), t.normEps(),
                t.attnNormNumGroups(), t.addAttention(), t.numClassEmbeds(), t.dropout());
        check(c, new float[]{0f, 1f, 2f});
    }

    private static void check(UNetConfig cfg, float[] labels) {
        int b = 3, s = cfg.sampleSize(), per = cfg.inChannels() * s * s;
        float[] x = Close.randn(21, b * per), t = {0f, 480.5f, 999f};
        try (UNet2DModel m = new UNet2DModel(cfg, TestDevices.java(), b, false)) {
            m.initialize(7);
            float[] expected = javaForward(m, x, t, labels);
            try (UNetForwardTornado f = new UNetForwardTornado(cfg, ParamPack.weightsOf(m), b)) {
                closeToMax(expected, f.forward(x, t, labels), "U-Net forward " + List.of(cfg.blockOutChannels()) + ", "
                        + f.taskCount() + " TornadoVM tasks");
                float[] x2 = Close.randn(22, b * per), t2 = {999f, 0f, 3f};
                closeToMax(javaForward(m, x2, t2, labels), f.forward(x2, t2, labels), "second forward of the same plan");
            }
        }
    }
}
