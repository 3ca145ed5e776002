package dev.diffuse.runtime;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MemoryBudgetTest {

    @AfterEach
    void clear() { System.clearProperty(MemoryBudget.PROPERTY); }

    @Test
    void parsesSizesAndRejectsNonsenseWithTheSource() {
        assertEquals(512L << 20, MemoryBudget.parseSize("512m", "x"));
        assertEquals(2L << 30, MemoryBudget.parseSize("2G", "x"));
        assertEquals(3L << 29, MemoryBudget.parseSize("1.5GiB", "x"));
        assertEquals(4096, MemoryBudget.parseSize("4096", "x"));
        assertEquals(64L << 10, MemoryBudget.parseSize("64kb", "x"));
        for (String bad : new String[]{"", "g", "-1g", "0", "lots", "1e30t", "NaN"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> MemoryBudget.parseSize(bad, "--max-memory"), bad);
            assertTrue(e.getMessage().startsWith("--max-memory"), e.getMessage());
        }
    }

    @Test
    void refusesBeforeAllocatingAndNamesEstimateLimitAndWayOut() {
        Device d = TestDevices.java();
        System.setProperty(MemoryBudget.PROPERTY, "1m");
        var e = assertThrows(MemoryBudgetException.class,
                () -> MemoryBudget.require(d, "sampling 10000000 images", 5L << 30, "lower --n"));
        String m = e.getMessage();
        assertTrue(m.contains("sampling 10000000 images") && m.contains("5.0 GiB") && m.contains("1.0 MiB")
                && m.contains("Lower --n") && m.contains("--max-memory"), m);
        assertThrows(MemoryBudgetException.class, () -> MemoryBudget.require(d, "overflow", -1, "lower it"));
    }

    @Test
    void workspacesCountAgainstTheDeviceLimitAndGiveItBackOnClose() {
        Device d = TestDevices.java();
        long before = MemoryBudget.held(d);
        System.setProperty(MemoryBudget.PROPERTY, String.valueOf(before + (1 << 20)));
        try (Workspace ws = new Workspace(d, "budgeted", Long.MAX_VALUE)) {
            ws.tensor(128 << 10); // 512 KiB
            assertEquals(before + (512 << 10), MemoryBudget.held(d));
            var e = assertThrows(MemoryBudgetException.class, () -> ws.tensor(256 << 10)); // 1 MiB more: over
            assertTrue(e.getMessage().contains("budgeted"), e.getMessage());
            assertEquals(512 << 10, ws.usedBytes(), "a refused allocation must not count");
        }
        assertEquals(before, MemoryBudget.held(d));
    }

    @Test
    void defaultLimitOnTheJavaDeviceIsAShareOfAvailableRam() {
        long avail = MemoryBudget.hostAvailableBytes();
        assertTrue(avail > 0 && avail <= MemoryBudget.hostTotalBytes(), avail + " of " + MemoryBudget.hostTotalBytes());
        long limit = MemoryBudget.limit(TestDevices.java());
        assertTrue(limit > 0 && limit <= avail + MemoryBudget.held(TestDevices.java()), "limit " + limit);
    }
}
