package dev.diffuse.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * load-test's wait for its child server: bounded in time even when the child prints nothing (the old loop blocked in
 * readLine past its 120 s), a child that exits early is reported at once with its status, and every line is echoed.
 */
class ChildServerOutputTest {
    private static Process sh(String script) throws Exception {
        return new ProcessBuilder("sh", "-c", script).redirectErrorStream(true).start();
    }

    @Test
    void findsTheUrlAndEchoesEveryLine() throws Exception {
        Process p = sh("echo starting; echo 'listening on http://127.0.0.1:41234  (POST /v1/samples)'; echo after");
        List<String> echoed = new CopyOnWriteArrayList<>();
        var out = new ChildServerOutput(p, echoed::add);
        assertEquals("http://127.0.0.1:41234", out.awaitUrl(Duration.ofSeconds(30)));
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        out.join(5000);
        assertEquals(List.of("starting", "listening on http://127.0.0.1:41234  (POST /v1/samples)", "after"), echoed);
    }

    @Test
    void aSilentChildTimesOutInsteadOfBlocking() throws Exception {
        Process p = sh("sleep 60");
        try {
            var out = new ChildServerOutput(p, line -> {});
            long t0 = System.nanoTime();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> out.awaitUrl(Duration.ofSeconds(1)));
            double secs = (System.nanoTime() - t0) / 1e9;
            assertTrue(secs < 20, "waited " + secs + " s for a 1 s limit");
            assertEquals("the server did not say where it listens within 1 s", e.getMessage());
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void aChildThatExitsEarlyIsReportedWithItsStatus() throws Exception {
        Process p = sh("echo 'diffuse: no model at /nowhere'; exit 3");
        var out = new ChildServerOutput(p, line -> {});
        long t0 = System.nanoTime();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> out.awaitUrl(Duration.ofSeconds(60)));
        assertTrue((System.nanoTime() - t0) / 1e9 < 30, "an exited child must not wait for the limit");
        assertEquals("the server stopped before it listened (exit status 3); its output is above", e.getMessage());
    }
}
