package dev.diffuse.bench.roofline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.diffuse.bench.report.DevicePeaks;
import dev.diffuse.bench.report.OpCase;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.TestDevices;

/**
 * The roofline measurements produce a well-formed roofline (one FMA figure per thread count, a copy curve over
 * growing working sets, positive and finite) and the report takes the right ceiling from it. No speed is asserted:
 * timing lives in the bench report, not in tests.
 */
class RooflineTest {
    static void checkWellFormed(Roofline r, int threads) {
        assertEquals(threads, r.fmaFlopsByThreads().length);
        assertEquals(threads, r.copyBytesByThreads().length);
        for (double f : r.fmaFlopsByThreads()) assertTrue(f > 1e8 && Double.isFinite(f), "FMA rate " + f);
        for (double b : r.copyBytesByThreads()) assertTrue(b > 1e7 && Double.isFinite(b), "copy rate " + b);
        List<Roofline.CopyPoint> curve = r.copyBySize();
        assertTrue(curve.size() >= 2, "copy curve " + curve);
        for (int i = 1; i < curve.size(); i++) {
            assertTrue(curve.get(i).workingSetBytes() > curve.get(i - 1).workingSetBytes(), "ascending working sets " + curve);
            assertTrue(curve.get(i).bytesPerSecond() <= curve.get(i - 1).bytesPerSecond(), "monotone curve " + curve);
        }
        assertEquals(r.peakBytes(), curve.getLast().bytesPerSecond(), 1e-9 * r.peakBytes(), "the largest working set is the DRAM peak");
    }

    @Test
    void javaRooflineIsMeasuredPerThreadCount() {
        Device d = TestDevices.java();
        Roofline r = Roofline.of(d);
        checkWellFormed(r, TestDevices.java().threads());
        assertSame(r, Roofline.of(d), "measured once per JVM");
    }

    @Test
    void openClRooflineIsMeasuredForTheWholeDevice() {
        checkWellFormed(Roofline.of(TestDevices.openCl()), 1);
    }

    @Test
    void memoryBoundOpsAreComparedWithTheCopyOfTheirWorkingSet() {
        var curve = List.of(new Roofline.CopyPoint(8 << 20, 50e9), new Roofline.CopyPoint(512 << 20, 20e9));
        DevicePeaks p = DevicePeaks.measured(new Roofline("cpu", new double[]{100e9, 190e9}, new double[]{12e9, 20e9}, curve, "test"));
        assertEquals(190e9, p.ceiling(OpCase.Unit.FLOP, 1e9));
        assertEquals(50e9, p.ceiling(OpCase.Unit.BYTE, 6e6), "6 MB fits the 8 MB point");
        assertEquals(20e9, p.ceiling(OpCase.Unit.BYTE, 100e6));
        assertEquals(20e9, p.ceiling(OpCase.Unit.BYTE, 2e9), "beyond the curve: DRAM");
        assertEquals(20e9, p.bytesPerSecond());
    }

    @Test
    void aDisturbedSmallWorkingSetIsRaisedToTheLargerOnes() {
        var raw = List.of(new Roofline.CopyPoint(8, 30e9), new Roofline.CopyPoint(32, 45e9), new Roofline.CopyPoint(128, 20e9));
        var m = Roofline.monotone(raw);
        assertEquals(List.of(45e9, 45e9, 20e9), m.stream().map(Roofline.CopyPoint::bytesPerSecond).toList());
    }
}
