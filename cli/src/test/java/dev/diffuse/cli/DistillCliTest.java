package dev.diffuse.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** diffuse distill from a (barely trained) tiny teacher: checkpoints, resume, grids, and sampling the student in 1-2 steps. */
class DistillCliTest {
    @TempDir
    Path dir;

    @Test
    void distillsResumesAndSamplesTheStudent() throws Exception {
        Path data = LatentCliTest.pngs(dir), teacher = dir.resolve("teacher"), cd = dir.resolve("cd");
        var json = (com.fasterxml.jackson.databind.node.ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                dev.diffuse.models.unet.UNetConfig.tiny().toJson());
        json.put("in_channels", 1).put("out_channels", 1).put("sample_size", 28).putNull("num_class_embeds");
        Path cfg = dir.resolve("tiny28.json");
        Files.writeString(cfg, json.toString());
        CliTest.Run t = CliTest.run("train", "--data", "png:" + data, "--config", cfg.toString(), "--steps", "2", "--batch", "4", "--device", "java",
                "--out", teacher.toString(), "--sample-every", "0", "--log-every", "1");
        assertEquals(0, t.code(), t.err());
        CliTest.Run c = CliTest.run("distill", "--teacher", teacher.resolve("checkpoint-2").toString(), "--data", "png:" + data, "--steps", "4",
                "--batch", "4", "--device", "java", "--out", cd.toString(), "--checkpoint-every", "2", "--log-every", "1");
        assertEquals(0, c.code(), c.err());
        assertTrue(Files.exists(cd.resolve("samples/final-1step.png")) && Files.exists(cd.resolve("samples/final-2step.png")), c.out());
        assertTrue(Files.readString(cd.resolve("checkpoint-4/objective.json")).contains("consistency_ddpm"));
        CliTest.Run r = CliTest.run("distill", "--steps", "6", "--device", "java", "--out", cd.toString(), "--resume", "--checkpoint-every", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("at step 4") && r.out().contains("png:"), "resume keeps the run's teacher and data: " + r.out());
        CliTest.Run s = CliTest.run("sample", "--model", cd.toString(), "--steps", "2", "--n", "4", "--device", "java",
                "--out", dir.resolve("s.png").toString());
        assertEquals(0, s.code(), s.err());
        assertTrue(s.out().contains("consistency, 2 steps") && s.out().contains("checkpoint-6"), s.out());
        Path table = dir.resolve("table.md");
        CliTest.Run e = CliTest.run("eval-fast", "--pixel", teacher.toString(), "--student", cd.toString(), "--n", "4", "--rounds", "1",
                "--device", "java", "--grids", dir.resolve("grids").toString(), "--out", table.toString());
        assertEquals(0, e.code(), e.err());
        String md = Files.readString(table);
        for (String row : new String[]{"| pixel DDIM-25 | 25 |", "| student 1 step | 1 |", "| student 2 steps | 2 |", "| student 4 steps | 4 |"})
            assertTrue(md.contains(row), row + " in\n" + md);
        assertTrue(Files.exists(dir.resolve("grids/fast-student-2step.png")));
        CliTest.Run wrong = CliTest.run("sample", "--model", cd.toString(), "--sampler", "ddim", "--n", "4", "--device", "java",
                "--out", dir.resolve("w.png").toString());
        assertEquals(2, wrong.code());
        assertTrue(wrong.err().contains("use sampler consistency"), wrong.err());
        CliTest.Run notEps = CliTest.run("distill", "--teacher", cd.toString(), "--data", "png:" + data, "--steps", "2", "--device", "java",
                "--out", dir.resolve("cd2").toString());
        assertEquals(2, notEps.code());
        assertTrue(notEps.err().contains("not an epsilon-prediction model"), notEps.err());
    }
}
