package dev.diffuse.runtime;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Strict mode catches on PoCL what would only fail on NVIDIA's driver: a sub-buffer at a PoCL-legal but not
 * NVIDIA-legal offset, an OpenCL C 2.0 construct, a work-group or local memory over NVIDIA's limits.
 */
class StrictModeTest {
    private static final String DIR = "dev/diffuse/runtime/strict/";
    private String saved;

    @BeforeEach
    void remember() { saved = System.getProperty("diffuse.strict"); }

    @AfterEach
    void restore() {
        if (saved == null) System.clearProperty("diffuse.strict");
        else System.setProperty("diffuse.strict", saved);
    }

    private static void strict(boolean on) { System.setProperty("diffuse.strict", Boolean.toString(on)); }

    @Test
    void unalignedSubBufferIsCaughtEvenWhereTheDeviceWouldAcceptIt() {
        ClDevice cl = TestDevices.openCl();
        long deviceAlign = cl.info().baseAddrAlignBytes();
        // 128 bytes (32 floats) past the start: legal on PoCL (128-byte alignment), illegal on NVIDIA (512 bytes)
        long offsetElements = deviceAlign / 4;
        try (Tensor buf = Tensor.allocate(cl, 1024)) {
            Tensor view = buf.view(offsetElements, 64);
            ClKernel k = cl.kernel(DIR + "scale.cl", "scale");
            if (deviceAlign < StrictMode.BASE_ADDR_ALIGN_BYTES) {
                strict(false);
                k.launch1d(64, 64, view, view, 64); // the device itself accepts it
                cl.finish();
            }
            strict(true);
            var e = assertThrows(IllegalArgumentException.class, () -> k.launch1d(64, 64, view, view, 64));
            assertTrue(e.getMessage().contains("not aligned to 512") && e.getMessage().contains("strict"), e.getMessage());
            Tensor aligned = buf.view(StrictMode.BASE_ADDR_ALIGN_BYTES / 4, 64);
            k.launch1d(64, 64, aligned, aligned, 64); // 512 bytes: fine everywhere
            cl.finish();
        }
    }

    @Test
    void openCl20ConstructIsRefusedBeforeTheDriverSeesIt() {
        ClDevice cl = TestDevices.openCl();
        strict(true);
        var e = assertThrows(ClBuildException.class, () -> cl.kernel(DIR + "cl20_generic.cl", "copy_first"));
        assertTrue(e.getMessage().contains("generic address space") && e.getMessage().contains("cl20_generic.cl")
                && e.getMessage().contains("line 2"), e.getMessage());
    }

    @Test
    void workGroupAndLocalMemoryOverNvidiaLimitsAreRefused() {
        ClDevice cl = TestDevices.openCl();
        strict(true);
        ClKernel scale = cl.kernel(DIR + "scale.cl", "scale", Map.of("FACTOR", "3.0f"));
        try (Tensor t = Tensor.allocate(cl, 4096)) {
            var wg = assertThrows(IllegalArgumentException.class, () -> scale.launch1d(4096, 2048, t, t, 4096));
            assertTrue(wg.getMessage().contains("2048") && wg.getMessage().contains("1024"), wg.getMessage());
            var local = assertThrows(IllegalArgumentException.class,
                    () -> cl.kernel(DIR + "big_local.cl", "big_local").launch1d(64, 64, t));
            assertTrue(local.getMessage().contains("local memory") && local.getMessage().contains("65536"), local.getMessage());
            ClKernel through = cl.kernel(DIR + "big_local.cl", "through_local");
            through.launch(new long[]{64}, new long[]{64}, t, t, new ClArg.Local(64 * 4));
            cl.finish();
            var dynamic = assertThrows(IllegalArgumentException.class,
                    () -> through.launch(new long[]{64}, new long[]{64}, t, t, new ClArg.Local(64 * 1024)));
            assertTrue(dynamic.getMessage().contains("local memory"), dynamic.getMessage());
        }
    }

    @Test
    void everyBuildIsOpenClC12() {
        assertTrue(ClPrograms.options(Map.of("B", 2, "A", 1)).startsWith("-cl-std=CL1.2 "));
        assertEquals("-cl-std=CL1.2 -DA=1 -DB=2", ClPrograms.options(Map.of("B", 2, "A", 1)));
    }
}
