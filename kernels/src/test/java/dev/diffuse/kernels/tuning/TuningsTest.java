package dev.diffuse.kernels.tuning;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.diffuse.kernels.linear.Gemm;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TuningCache;

/**
 * Launches use the cached choice for their (device, driver, op, shape), ignore an illegal or other-mode one, the
 * tuner stores a correct choice, {@code first-use} tunes on the first launch, and recording collects a run's shapes.
 */
class TuningsTest {
    @TempDir
    Path dir;
    private String savedDir, savedMode;

    @BeforeEach
    void useTempCache() {
        savedDir = System.getProperty("diffuse.cache.dir");
        savedMode = System.getProperty("diffuse.tuning");
        System.setProperty("diffuse.cache.dir", dir.toString());
    }

    @AfterEach
    void restore() {
        restore("diffuse.cache.dir", savedDir);
        restore("diffuse.tuning", savedMode);
    }

    private static void restore(String key, String value) {
        if (value == null) System.clearProperty(key);
        else System.setProperty(key, value);
    }

    /** The GEMM op of one 19 x 23 x 7 NT product with a bias, recorded from a real launch. */
    private static Tunings.Request gemmRequest(ClDevice cl) {
        try (Tensor c = Tensor.allocate(cl, 19, 23); Tensor a = Tensor.allocate(cl, 19, 7); Tensor b = Tensor.allocate(cl, 23, 7)) {
            var rec = Tunings.record(() -> {
                Gemm.gemm(c, a, b, false, true, 1f, 0f);
                Gemm.gemm(c, a, b, false, true, 1f, 0f);
                cl.finish();
            });
            assertEquals(1, rec.size(), rec.toString());
            assertEquals(2, rec.values().iterator().next(), "two launches of one shape");
            return rec.keySet().iterator().next();
        }
    }

    @Test
    void launchesUseTheCachedChoiceUnlessItIsIllegalOrTuningIsOff() throws Exception {
        ClDevice cl = TestDevices.openCl();
        Tunings.Request r = gemmRequest(cl);
        assertEquals("gemm", r.op().op());
        assertEquals("M=19,N=23,K=7,TA=0,TB=1,BIAS=0", r.shape().toString());
        Map<String, Integer> defaults = r.op().defaults(r.shape(), cl.info());
        Map<String, Integer> other = Map.of("TM", 16, "TN", 16, "TK", 16, "WM", 4, "WN", 4);
        assertNotEquals(defaults, other);
        TuningCache.shared().put(new TuningCache.Entry(cl.info().name(), cl.info().driverVersion(), "gemm", r.shape().toString(), other, 1, 2));
        assertEquals(other, Tunings.choose(cl, r.op(), r.shape()));
        System.setProperty("diffuse.tuning", "off");
        assertEquals(defaults, Tunings.choose(cl, r.op(), r.shape()));
        System.setProperty("diffuse.tuning", "on");
        TuningCache.shared().put(new TuningCache.Entry(cl.info().name(), cl.info().driverVersion(), "gemm", r.shape().toString(),
                Map.of("TM", 16, "TN", 16, "TK", 16, "WM", 5, "WN", 4), 1, 2));
        assertEquals(defaults, Tunings.choose(cl, r.op(), r.shape()), "an illegal cached choice is ignored");
        System.setProperty("diffuse.tuning", "sometimes");
        assertThrows(IllegalArgumentException.class, () -> Tunings.choose(cl, r.op(), r.shape()));
    }

    @Test
    void theTunerStoresACorrectChoiceAndFirstUseTunesOnce() {
        ClDevice cl = TestDevices.openCl();
        Tunings.Request r = gemmRequest(cl);
        Tuner.Result res = new Tuner(cl, TuningCache.shared(), null).budgetSeconds(20).tune(r.op(), r.shape());
        assertTrue(res.bestMs() > 0 && res.bestMs() <= res.defaultMs(), res.toString());
        assertTrue(res.timed() >= 2 && res.timed() <= res.candidates(), res + ": the defaults and at least one other candidate timed");
        var e = TuningCache.shared().get(cl.info(), "gemm", r.shape().toString()).orElseThrow();
        assertEquals(res.best(), e.params());
        assertNull(r.op().illegal(e.params(), r.shape(), cl.info()));

        Shape fresh = Shape.of("M", 5, "N", 9, "K", 3, "TA", 1, "TB", 0, "BIAS", 0);
        assertTrue(TuningCache.shared().get(cl.info(), "gemm", fresh.toString()).isEmpty());
        System.setProperty("diffuse.tuning", "first-use");
        Map<String, Integer> p = Tunings.choose(cl, r.op(), fresh);
        assertEquals(p, TuningCache.shared().get(cl.info(), "gemm", fresh.toString()).orElseThrow().params());
    }

    @Test
    void mismatchNamesTheWorstElement() {
        assertNull(Tuner.mismatch(new float[]{1, 2, 3}, new float[]{1, 2, 3.0001f}));
        assertTrue(Tuner.mismatch(new float[]{1, 2, 4}, new float[]{1, 2, 3}).contains("at 2"));
        assertTrue(Tuner.mismatch(new float[]{1, Float.NaN}, new float[]{1, 2}).contains("NaN"));
    }
}
