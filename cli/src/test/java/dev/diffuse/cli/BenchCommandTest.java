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
        assertTrue(r.err().contains("matches no name") && r.err().contains("groupnorm+silu forward"), r.err());
    }

    @Test
    void sideBySidePrintsThePeaksAndOneJsonLinePerCase() throws Exception {
        Path model = shippedModel();
        CliTest.Run r = CliTest.run("bench", "--side-by-side=gn_silu,gemm", "--quick", "--device", "java", "--model", model.toString());
        assertEquals(0, r.code(), r.err());
        ObjectMapper json = new ObjectMapper();
        java.util.List<JsonNode> lines = new java.util.ArrayList<>();
        for (String l : r.out().split("\n")) if (l.startsWith("{")) lines.add(json.readTree(l));
        assertEquals("peaks", lines.getFirst().get("kind").asText(), r.out());
        assertTrue(lines.getFirst().get("flops").asDouble() > 0 && lines.getFirst().get("bytes").asDouble() > 0);
        assertEquals(java.util.List.of("gemm_512", "gn_silu"), lines.stream().skip(1).map(n -> n.get("case").asText()).toList());
        for (JsonNode n : lines.subList(1, lines.size())) {
            assertTrue(n.get("ms").asDouble() > 0 && n.get("work").asDouble() > 0 && n.get("ceiling").asDouble() > 0, n.toString());
            assertEquals("diffuse", n.get("engine").asText());
        }
        CliTest.Run bad = CliTest.run("bench", "--side-by-side", "--device", "java", "--model", dir.resolve("none").toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("is not a folder"), bad.err());
    }

    /** pretrained/fashion-mnist-small, found by walking up from the working directory (tests run in a module folder). */
    static Path shippedModel() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path m = p.resolve("pretrained/fashion-mnist-small");
            if (Files.isRegularFile(m.resolve("config.json"))) return m;
        }
        throw new AssertionError("pretrained/fashion-mnist-small not found above " + Path.of("").toAbsolutePath());
    }
}
