package dev.diffuse.spark;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import dev.diffuse.spark.cli.SparkCommands;
import picocli.CommandLine;

/** diffuse generate and diffuse evaluate in local mode, as the launcher runs them, and their one-line errors. */
class SparkCommandsTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        CommandLine cl = SparkCommands.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true));
        try {
            return new Run(cl.execute(args), out.toString(), err.toString());
        } finally {
            System.setOut(old);
        }
    }

    @Test
    void generateWritesADataSetThatEvaluateReads() throws Exception {
        Path model = TinyImageModels.write(dir.resolve("model"), 8, 3); // classes 0, 1; 2 = "no class"
        String out = dir.resolve("data").toString();
        Run g = run("generate", "--model", model.toString(), "--n", "6", "--steps", "1", "--seed", "4", "--out", out,
                "--master", "local[2]", "--device", "java", "--batch", "2", "--partitions", "3");
        assertEquals(0, g.code(), g.err());
        assertTrue(g.out().contains("generated: 6 images in"), g.out());
        assertTrue(g.out().contains("spark:   local[2], 3 partitions, devices java"), g.out());
        JsonNode m = Manifest.JSON.readTree(Files.readString(dir.resolve("data").resolve(Manifest.FILE)));
        assertEquals(ModelRef.hash(model), m.path("model").path("sha256").asText());
        assertEquals("ddim", m.path("request").path("sampler").asText());
        assertEquals(4, m.path("request").path("seed").asLong());
        assertEquals(Manifest.diffuseVersion(), m.path("diffuse_version").asText());
        assertNotEquals("unknown", Manifest.diffuseVersion());

        Path report = dir.resolve("report.json");
        Run e = run("evaluate", "--data", out, "--reference", "none", "--master", "local[2]", "--out", report.toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("images per class: 0: 3 1: 3"), e.out());
        assertEquals(3, Manifest.JSON.readTree(Files.readString(report)).path("class_counts").path("0").asInt());

        Run again = run("generate", "--model", model.toString(), "--n", "6", "--out", out, "--master", "local[1]");
        assertEquals(2, again.code());
        assertEquals("diffuse: " + out + " already exists; choose another output folder or replace it (--overwrite)", again.err().strip());
    }

    @Test
    void badInputGetsOneLine() throws Exception {
        Run none = run("evaluate", "--master", "local[1]");
        assertEquals(2, none.code());
        assertEquals("diffuse: give --data (sliced-W2, class counts), --likelihood-model (bits/dim) or both", none.err().strip());
        Path model = TinyImageModels.write(dir.resolve("model"), 8, 0);
        Run glob = run("generate", "--model", model.toString(), "--n", "1", "--out", dir.resolve("out[1]").toString(), "--master", "local[1]");
        assertEquals(2, glob.code());
        assertTrue(glob.err().contains("Spark reads paths with * ? [ ] { } \\ as glob patterns"), glob.err());
        Run yarn = run("evaluate", "--data", "fashion-mnist:test", "--master", "yarn");
        assertEquals(2, yarn.code());
        assertTrue(yarn.err().startsWith("diffuse: --master yarn: the diffuse command runs Spark in local mode"), yarn.err());
    }
}
