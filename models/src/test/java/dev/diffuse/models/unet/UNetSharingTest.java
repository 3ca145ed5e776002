package dev.diffuse.models.unet;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;

import dev.diffuse.runtime.MemoryBudget;
import dev.diffuse.runtime.MemoryBudgetException;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;

/** One model shared by threads, a pass that fails half-way, and the memory estimate checked before allocation. */
class UNetSharingTest {
    private static final UNetConfig UNCOND = UNetConfig.tiny().withNumClassEmbeds(null);

    private static float[] forward(UNet2DModel m, float[] x, float t) {
        int[] s = m.sampleShape();
        try (Tensor xt = Tensor.of(m.device(), x, 1, s[0], s[1], s[2]); Tensor tt = Tensor.of(m.device(), new float[]{t}, 1);
             Tensor out = Tensor.allocate(m.device(), 1, m.config().outChannels(), s[1], s[2])) {
            m.forward(out, xt, tt, null);
            return out.toArray();
        }
    }

    private static float[] input(UNet2DModel m, long seed) {
        int[] s = m.sampleShape();
        float[] x = new float[s[0] * s[1] * s[2]];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < x.length; i++) x[i] = (float) (2 * r.nextDouble() - 1);
        return x;
    }

    @Test
    void threadsSharingOneModelGetTheResultsOfRunningAlone() throws Exception {
        try (UNet2DModel m = new UNet2DModel(UNCOND, TestDevices.java(), 2, false)) {
            m.initialize(5);
            int calls = 12;
            float[][] ref = new float[calls][];
            for (int i = 0; i < calls; i++) ref[i] = forward(m, input(m, i), 10 * i);
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<float[]>> fs = new ArrayList<>();
                for (int rep = 0; rep < 3; rep++)
                    for (int i = 0; i < calls; i++) {
                        int k = i;
                        fs.add(pool.submit(() -> forward(m, input(m, k), 10 * k)));
                    }
                for (int j = 0; j < fs.size(); j++) assertArrayEquals(ref[j % calls], fs.get(j).get(), "call " + j);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void aPassThatFailedHalfWayLeavesTheModelUsable() {
        try (UNet2DModel m = new UNet2DModel(UNCOND, TestDevices.java(), 2, true)) {
            m.initialize(3);
            float[] x = input(m, 1), ref = forward(m, x, 42);
            // what a layer that threw between take() and release() leaves behind: the scratch top stuck near the end
            Graph.Scratch sc = tapeScratch(m);
            sc.take((int) Math.min(Integer.MAX_VALUE, scratchElements(m) - Graph.ALIGN));
            assertArrayEquals(ref, forward(m, x, 42), "forward after a failed pass");
            sc.take((int) Math.min(Integer.MAX_VALUE, scratchElements(m) - Graph.ALIGN));
            int[] s = m.sampleShape();
            try (Tensor dOut = Tensor.allocate(m.device(), 1, m.config().outChannels(), s[1], s[2]);
                 Tensor dx = Tensor.allocate(m.device(), 1, s[0], s[1], s[2])) {
                m.backward(dOut, dx); // must not overflow the scratch
            }
        }
    }

    @Test
    void backwardAfterAFailedForwardSaysSo() {
        try (UNet2DModel m = new UNet2DModel(UNCOND, TestDevices.java(), 2, true)) {
            int[] s = m.sampleShape();
            try (Tensor bad = Tensor.allocate(m.device(), 3, s[0], s[1], s[2]); Tensor t = Tensor.allocate(m.device(), 3);
                 Tensor out = Tensor.allocate(m.device(), 3, m.config().outChannels(), s[1], s[2])) {
                assertThrows(IllegalArgumentException.class, () -> m.forward(out, bad, t, null)); // batch 3 > maxBatch 2
            }
            try (Tensor dOut = Tensor.allocate(m.device(), 1, m.config().outChannels(), s[1], s[2])) {
                var e = assertThrows(IllegalStateException.class, () -> m.backward(dOut, null));
                assertTrue(e.getMessage().contains("completed forward"), e.getMessage());
            }
        }
    }

    @Test
    void theEstimateIsWhatTheModelAllocatesAndAnOversizedModelIsRefusedFirst() {
        for (boolean training : new boolean[]{false, true}) {
            long est = UNet2DModel.bytesNeeded(UNCOND, 3, training);
            try (UNet2DModel m = new UNet2DModel(UNCOND, TestDevices.java(), 3, training)) {
                assertEquals(est, m.allocatedBytes(), "training " + training);
            }
        }
        long held = MemoryBudget.held(TestDevices.java());
        // a 4096x4096 small U-Net at batch 64 asks for terabytes: refused with the estimate, nothing allocated
        UNetConfig huge = UNetConfig.small().withSampleSize(4096);
        var e = assertThrows(MemoryBudgetException.class, () -> new UNet2DModel(huge, TestDevices.java(), 64, true));
        assertTrue(e.getMessage().contains("4096x4096") && e.getMessage().contains("GiB"),
                e.getMessage());
        assertEquals(held, MemoryBudget.held(TestDevices.java()));
    }

    private static Graph.Scratch tapeScratch(UNet2DModel m) { return m.graph().scratch; }

    private static long scratchElements(UNet2DModel m) { return m.graph().scratch.capacity(); }
}
