package dev.diffuse.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** diffuse bench: the roofline, --ops with a filter (JSON with shares of the measured peaks), and a bad filter. */
class BenchCommandTest {
    @TempDir
    Path dir;

    @Test
    void rooflinePrintsTheMeasuredPeaksPerThreadCount() {
        CliTest.Run r = CliTest.run("bench", "--roofline", "--device", "java");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("FP32 FMA rate") && r.out().contains("1 thread") && r.out().contains("copy bandwidth"), r.out());
        assertFalse(r.out().contains("ops.json"), "--roofline alone runs no ops: " + r.out());
    }

    @Test
    void opsFilterRunsOnlyTheNamedOpsAgainstTheMeasuredRoofline() throws Exception {
        CliTest.Run r = CliTest.run("bench", "--ops=ema,gradient", "--quick", "--device", "java", "--out", dir.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode doc = new ObjectMapper().readTree(Files.readString(dir.resolve("ops.json")));
        assertEquals("measured roofline", doc.get("peaks").get("source").asText());
        assertTrue(doc.get("roofline").get("fmaFlopsByThreads").size() >= 1);
        assertTrue(doc.get("rows").size() >= 2, doc.toString());
        for (JsonNode row : doc.get("rows")) {
            String op = row.get("op").asText();
            assertTrue(op.equals("ema") || op.equals("gradient norm"), "unfiltered op " + op);
            double share = row.get("shareOfPeak").asDouble();
            assertTrue(share > 0 && Double.isFinite(share), row.toString());
        }
        assertTrue(Files.size(dir.resolve("ops.png")) > 1000);
    }

    @Test
    void anOpsFilterThatMatchesNothingListsTheOps() {
        CliTest.Run r = CliTest.run("bench", "--ops=convolution3d", "--device", "java", "--out", dir.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("matches no op") && r.err().contains("groupnorm+silu forward"), r.err());
    }
}
