package dev.diffuse.runtime;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Map;

import org.junit.jupiter.api.Test;

class RuntimeTest {

    @Test
    void workspaceCountsBytesAndNamesTheBudgetWhenExceeded() {
        try (Workspace ws = new Workspace(TestDevices.java(), "test pipeline", 1000)) {
            ws.tensor(100);
            assertEquals(400, ws.usedBytes());
            var e = assertThrows(WorkspaceBudgetException.class, () -> ws.tensor(200));
            assertTrue(e.getMessage().contains("test pipeline") && e.getMessage().contains("budget"), e.getMessage());
            assertEquals(400, ws.usedBytes(), "a refused allocation must not count");
        }
    }

    @Test
    void closedWorkspaceTensorsFailLoudly() {
        Tensor t;
        try (Workspace ws = new Workspace(TestDevices.java(), "w", 1 << 20)) {
            t = ws.tensor(4);
        }
        assertThrows(IllegalStateException.class, t::toArray);
    }

    @Test
    void tensorsRoundTripAndViewsShareStorage() {
        for (Device d : new Device[]{TestDevices.java(), TestDevices.openCl()}) {
            try (Tensor t = Tensor.of(d, new float[]{1, 2, 3, 4, 5, 6}, 2, 3)) {
                assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6}, t.toArray());
                assertArrayEquals(new float[]{4, 5, 6}, t.view(3, 3).toArray());
                assertEquals(5f, t.get(4));
                try (Tensor u = Tensor.allocate(d, 3, 2)) {
                    u.copyFrom(t);
                    assertArrayEquals(t.toArray(), u.toArray());
                }
                assertThrows(IllegalArgumentException.class, () -> t.reshape(4, 2));
            }
        }
    }

    @Test
    void slabViewsAreAlignedAndUsableAsKernelArguments() {
        ClDevice cl = TestDevices.openCl();
        try (Workspace ws = new Workspace(cl, "slab", 1 << 20)) {
            Tensor[] s = ws.slab(new int[]{3}, new int[]{5, 7}, new int[]{1});
            assertEquals(0, s[2].byteOffset() % Workspace.SLAB_ALIGN_BYTES);
            Rng.fillNormal(s[2], 1, 2);
            float[] expect = new float[35];
            Philox.normals(1, 2, 0, expect, 0, 35);
            Close.assertClose(expect, s[2].toArray(), 2e-6, 2e-6);
            assertArrayEquals(new float[3], s[1].toArray(), "neighbouring view untouched");
        }
    }

    @Test
    void unalignedViewIsRejectedWithAnExplanation() {
        ClDevice cl = TestDevices.openCl();
        try (Tensor t = Tensor.allocate(cl, 100)) {
            var e = assertThrows(IllegalArgumentException.class, () -> Rng.fillNormal(t.view(3, 10), 1, 1));
            assertTrue(e.getMessage().contains("aligned"), e.getMessage());
        }
    }

    @Test
    void buildFailureCarriesTheBuildLog() {
        ClDevice cl = TestDevices.openCl();
        var e = assertThrows(ClBuildException.class,
                () -> cl.kernel("dev/diffuse/runtime/broken-for-test.cl", "broken", Map.of("WG", 64)));
        assertTrue(e.getMessage().contains("broken-for-test.cl") && e.getMessage().contains("-DWG=64"), e.getMessage());
        assertTrue(e.getMessage().contains("undeclared") || e.getMessage().contains("error"), e.getMessage());
    }

    @Test
    void deviceSpecsAreParsedAndBadOnesExplained() {
        assertSame(JavaDevice.get(), Devices.select("java"));
        var e = assertThrows(IllegalArgumentException.class, () -> Devices.select("cuda"));
        assertTrue(e.getMessage().contains("cl:gpu"), e.getMessage());
        // an index out of range is named as such (with what exists), not answered with advice to install a driver
        var range = assertThrows(IllegalArgumentException.class, () -> Devices.select("cl:99:0"));
        assertTrue(range.getMessage().contains("cl:99:0") && !range.getMessage().contains("Install"), range.getMessage());
        if (!Devices.openCl().isEmpty()) assertTrue(range.getMessage().contains("there is no platform 99"), range.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Devices.select("tornado"));
        assertTrue(e.getMessage().contains("TORNADOVM_HOME"), e.getMessage());
        if (!Devices.openCl().isEmpty()) {
            ClDeviceInfo first = Devices.openCl().get(0);
            assertEquals(first.id(), Devices.select(first.id()).id());
        }
    }
}
