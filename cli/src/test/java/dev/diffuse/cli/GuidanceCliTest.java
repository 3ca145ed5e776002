package dev.diffuse.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train --class-conditional --label-dropout / --init-from, then sample --class --guidance; serve and load-test describe themselves. */
class GuidanceCliTest {
    @TempDir
    Path dir;

    @Test
    void labelDropoutRecordsTheNullClassAndGuidedSamplingRuns() throws Exception {
        Path plain = dir.resolve("plain"), cond = dir.resolve("cond");
        CliTest.Run p = CliTest.run("train", "--data", "ring8", "--config", "mlp", "--steps", "20", "--batch", "64", "--device", "java",
                "--out", plain.toString(), "--sample-every", "0", "--log-every", "10");
        assertEquals(0, p.code(), p.err());
        CliTest.Run t = CliTest.run("train", "--data", "ring8", "--config", "mlp", "--class-conditional", "--label-dropout", "0.2",
                "--init-from", plain.toString(), "--steps", "20", "--batch", "64", "--device", "java", "--out", cond.toString(),
                "--sample-every", "0", "--log-every", "10");
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().contains("not in it: [class_embedding.weight]"), t.out());
        String obj = Files.readString(cond.resolve("checkpoint-20/objective.json"));
        assertTrue(obj.contains("\"null_class\" : 8"), obj);

        CliTest.Run resumed = CliTest.run("train", "--out", cond.toString(), "--resume", "--class-conditional", "--config", "mlp",
                "--steps", "30", "--device", "java");
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(Files.readString(cond.resolve("checkpoint-30/objective.json")).contains("\"null_class\" : 8"));

        Path png = dir.resolve("g.png");
        CliTest.Run s = CliTest.run("sample", "--model", cond.toString(), "--class", "2", "--guidance", "3", "--steps", "10", "--n", "50",
                "--device", "java", "--out", png.toString());
        assertEquals(0, s.code(), s.err());
        assertTrue(Files.size(png) > 1000);
        CliTest.Run bad = CliTest.run("sample", "--model", cond.toString(), "--class", "8", "--device", "java", "--out", png.toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("\"no class\" id"), bad.err());
    }

    @Test
    void aClassConditionalUNetWritesSampleGridsOfEachClass() throws Exception {
        Path out = dir.resolve("unet");
        CliTest.Run t = CliTest.run("train", "--data", "fashion-mnist", "--config", "tiny", "--class-conditional", "--label-dropout", "0.1",
                "--steps", "2", "--batch", "4", "--device", "java", "--out", out.toString(), "--sample-every", "1", "--sample-n", "4",
                "--log-every", "1");
        assertEquals(0, t.code(), t.err());
        assertTrue(Files.size(out.resolve("samples/step-1.png")) > 100 && Files.size(out.resolve("samples/final.png")) > 100);
        assertTrue(Files.readString(out.resolve("checkpoint-2/objective.json")).contains("\"null_class\" : 10"));
    }

    @Test
    void labelDropoutNeedsAClassConditionalModel() {
        CliTest.Run r = CliTest.run("train", "--data", "ring8", "--config", "mlp", "--label-dropout", "0.1", "--steps", "5", "--device", "java",
                "--out", dir.resolve("x").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("add --class-conditional"), r.err());
        CliTest.Run range = CliTest.run("train", "--data", "ring8", "--config", "mlp", "--class-conditional", "--label-dropout", "1.5",
                "--steps", "5", "--device", "java", "--out", dir.resolve("y").toString());
        assertEquals(2, range.code());
        assertTrue(range.err().contains("labelDropout in [0, 1)"), range.err());
    }

    @Test
    void serveAndLoadTestDescribeThemselves() {
        String serve = DiffuseCommand.commandLine().getSubcommands().get("serve").getUsageMessage();
        assertTrue(serve.contains("/v1/samples") && serve.contains("--max-queue") && serve.contains("SIGTERM"), serve);
        CliTest.Run missing = CliTest.run("serve", "--model", dir.resolve("none").toString(), "--port", "0", "--device", "java");
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("does not exist"), missing.err());
        String lt = DiffuseCommand.commandLine().getSubcommands().get("load-test").getUsageMessage();
        assertTrue(lt.contains("--clients") && lt.contains("p50/p99"), lt);
    }
}
