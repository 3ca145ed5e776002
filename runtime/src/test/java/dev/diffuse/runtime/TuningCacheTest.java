package dev.diffuse.runtime;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TuningCacheTest {
    private static final ClDeviceInfo DEV = new ClDeviceInfo(0, 0, "P", "OpenCL 3.0", "Some GPU", "V", "1.2.3", "OpenCL 3.0",
            "OpenCL C 1.2", true, 132, 1980, 1024, 49152, 1L << 36, 1L << 34, 512, true, java.util.List.of());

    @TempDir
    Path dir;

    private static TuningCache.Entry entry(String op, String shape, int tm) {
        return new TuningCache.Entry("Some GPU", "1.2.3", op, shape, Map.of("TM", tm, "TN", 64), 1.5, 3.0);
    }

    @Test
    void entriesRoundTripAndAreKeyedByDeviceDriverOpAndShape() throws Exception {
        TuningCache c = new TuningCache(dir.resolve("tuning.tsv"));
        c.put(entry("gemm", "M=1,N=2", 32));
        TuningCache again = new TuningCache(dir.resolve("tuning.tsv"));
        assertEquals(Map.of("TM", 32, "TN", 64), again.get(DEV, "gemm", "M=1,N=2").orElseThrow().params());
        assertTrue(again.get(DEV, "gemm", "M=1,N=3").isEmpty());
        ClDeviceInfo otherDriver = new ClDeviceInfo(0, 0, "P", "OpenCL 3.0", "Some GPU", "V", "1.2.4", "OpenCL 3.0",
                "OpenCL C 1.2", true, 132, 1980, 1024, 49152, 1L << 36, 1L << 34, 512, true, java.util.List.of());
        assertTrue(again.get(otherDriver, "gemm", "M=1,N=2").isEmpty(), "another driver version is another key");
    }

    @Test
    void twoWritersKeepBothEntriesAndALaterPutReplaces() throws Exception {
        Path f = dir.resolve("tuning.tsv");
        TuningCache a = new TuningCache(f), b = new TuningCache(f);
        a.get(DEV, "x", "y"); // a has read the (empty) file before b writes
        b.put(entry("conv", "B=1", 16));
        a.put(entry("gemm", "M=1", 64));
        a.put(entry("gemm", "M=1", 128));
        TuningCache c = new TuningCache(f);
        assertEquals(2, c.entries().size());
        assertEquals(128, c.get(DEV, "gemm", "M=1").orElseThrow().params().get("TM"));
        assertTrue(c.get(DEV, "conv", "B=1").isPresent());
    }

    @Test
    void damagedLinesAreSkippedNotFatal() throws Exception {
        Path f = dir.resolve("tuning.tsv");
        new TuningCache(f).put(entry("gemm", "M=1", 32));
        Files.writeString(f, Files.readString(f) + "garbage line\nSome GPU\t1.2.3\tgemm\tM=2\tTM=x\t1\t2\n\u0000\u0001\n");
        TuningCache c = new TuningCache(f);
        assertEquals(1, c.entries().size());
        c.put(entry("gemm", "M=3", 16));
        assertEquals(2, new TuningCache(f).entries().size(), "the rewrite drops what does not parse");
        Files.write(f, new byte[]{(byte) 0xff, (byte) 0xfe, 0, 1});
        assertEquals(0, new TuningCache(f).entries().size(), "a file that is not text reads as empty");
    }

    @Test
    void paramsFormatInNameOrderAndParseBack() {
        assertEquals("A=1,B=22", TuningCache.formatParams(Map.of("B", 22, "A", 1)));
        assertEquals(Map.of("A", 1, "B", 22), TuningCache.parseParams("A=1,B=22"));
        assertThrows(IllegalArgumentException.class, () -> TuningCache.parseParams("A1"));
    }
}
