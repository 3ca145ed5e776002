package dev.diffuse.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.diffuse.runtime.TestDevices;

/**
 * {@code diffuse tune} on the tiny U-Net: learns its shapes, tunes them into a cache in a temporary folder, writes
 * the report; a second run keeps the cached shapes; a non-OpenCL device or bad numbers get one clear line. The GPU
 * check's report gatherer turns a step folder into report.json and report.md.
 */
class TuneCommandTest {
    @TempDir
    Path dir;
    private String saved;

    @BeforeEach
    void tempCache() {
        saved = System.getProperty("diffuse.cache.dir");
        System.setProperty("diffuse.cache.dir", dir.resolve("cache").toString());
    }

    @AfterEach
    void restore() {
        if (saved == null) System.clearProperty("diffuse.cache.dir");
        else System.setProperty("diffuse.cache.dir", saved);
    }

    @Test
    void tunesATinyUNetCachesTheChoicesAndReports() throws Exception {
        String device = TestDevices.openCl().id();
        Path out = dir.resolve("report");
        CliTest.Run r = CliTest.run("tune", "--model", "tiny", "--device", device, "--batch", "2", "--forward-only",
                "--budget", "1", "--report", "--reps", "1", "--out", out.toString());
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(Files.readString(dir.resolve("cache/tuning.tsv")).contains("conv2d.forward"), "the cache holds conv choices");
        JsonNode json = new ObjectMapper().readTree(out.resolve("tune.json").toFile());
        assertTrue(json.path("ops").size() > 5, json.toPrettyString());
        assertTrue(json.path("model_timings_ms").get(0).path("fwdTuned").asDouble() > 0);
        assertTrue(json.path("model_timings_ms").get(0).path("fwdJava").asDouble() > 0);
        assertTrue(Files.readString(out.resolve("tune.md")).contains("| forward |"));

        CliTest.Run again = CliTest.run("tune", "--model", "tiny", "--device", device, "--batch", "2", "--forward-only", "--budget", "1");
        assertEquals(0, again.code(), again.err());
        assertFalse(again.out().contains(" ms -> "), "every shape was cached: nothing is timed again\n" + again.out());
    }

    @Test
    void badInputGetsOneClearLine() {
        CliTest.Run java = CliTest.run("tune", "--model", "tiny", "--device", "java");
        assertEquals(2, java.code());
        assertTrue(java.err().contains("OpenCL device"), java.err());
        CliTest.Run budget = CliTest.run("tune", "--model", "tiny", "--device", TestDevices.openCl().id(), "--budget", "0");
        assertEquals(2, budget.code());
        assertTrue(budget.err().contains("--budget"), budget.err());
        CliTest.Run missing = CliTest.run("tune", "--model", dir.resolve("nothing").toString(), "--device", TestDevices.openCl().id());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("does not exist"), missing.err());
    }

    @Test
    void gpuCheckReportGathersTheSteps() throws Exception {
        Path out = dir.resolve("check");
        Files.createDirectories(out.resolve("junit"));
        Files.writeString(out.resolve("steps.tsv"), "step\texit\tseconds\tlimit\ntests\t0\t95.2\t180\ntune\t124\t120.0\t120\ntrain\t-1\t0\t0\n");
        Files.writeString(out.resolve("junit/TEST-junit-jupiter.xml"),
                "<?xml version=\"1.0\"?>\n<testsuite name=\"JUnit Jupiter\" tests=\"812\" skipped=\"1\" failures=\"2\" errors=\"0\" time=\"95.1\">\n</testsuite>\n");
        Files.writeString(out.resolve("sample.log"), "device: cl:0:0\nsampled: 64 in 0.512 s (125.0 samples/s)\nwrote x\n");
        Files.writeString(out.resolve("tests.log"), "\u2714 ok\n\u2718 broken() expected 1\n");
        GpuCheckReport.main(new String[]{out.toString(), "cl:gpu"});
        JsonNode json = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertEquals("812", json.path("tests").path("tests").asText());
        assertEquals("2", json.path("tests").path("failures").asText());
        assertEquals("timed out", json.path("steps").get(1).path("status").asText());
        assertEquals("skipped", json.path("steps").get(2).path("status").asText());
        assertTrue(json.path("sample").asText().contains("64 in 0.512 s"));
        String md = Files.readString(out.resolve("report.md"));
        assertTrue(md.contains("| tune | timed out (exit 124) |") && md.contains("broken()"), md);
    }
}
