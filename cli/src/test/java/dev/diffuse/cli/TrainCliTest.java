package dev.diffuse.cli;

import static dev.diffuse.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.diffuse.models.train.Checkpoints;

/** {@code diffuse train}: honest resume, divergence, retention and stale files, presets that fit the data, help and progress text. */
class TrainCliTest {
    @TempDir
    Path dir;

    static final String[] QUIET = {"--device", "java", "--sample-every", "0", "--log-every", "5"};

    static CliTest.Run train(Path out, String... args) {
        String[] all = new String[args.length + QUIET.length + 3];
        all[0] = "train";
        all[1] = "--out";
        all[2] = out.toString();
        System.arraycopy(args, 0, all, 3, args.length);
        System.arraycopy(QUIET, 0, all, 3 + args.length, QUIET.length);
        return run(all);
    }

    private List<String> checkpoints(Path out) throws Exception {
        try (var s = Files.list(out)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("checkpoint-")).sorted().toList();
        }
    }

    @Test
    void resumeContinuesOnTheRecordedDataAndRefusesConflictingFlags() throws Exception {
        Path out = dir.resolve("run");
        CliTest.Run first = train(out, "--data", "ring8:500", "--config", "mlp", "--steps", "10", "--batch", "16", "--checkpoint-every", "10");
        assertEquals(0, first.code(), first.err());
        assertEquals("ring8:500", Checkpoints.metadata(out.resolve("checkpoint-10")).get("data_spec"));
        // no flags: the recorded data (the CLI's default --data fashion-mnist was opened before) and batch
        CliTest.Run plain = train(out, "--resume", "--steps", "15");
        assertEquals(0, plain.code(), plain.err());
        assertTrue(plain.out().contains("data:   ring8 (500 exact samples"), plain.out());
        assertTrue(plain.out().contains("resumed from " + out.resolve("checkpoint-10") + " at step 10 of 15"), plain.out());
        // conflicting flags are refused with both values
        CliTest.Run clash = train(out, "--resume", "--steps", "20", "--data", "ring8", "--batch", "32", "--lr", "1e-3");
        CliFailuresTest.assertOneLine(clash, "--data ring8:500 (given ring8)", "--batch 16 (given 32)", "--lr 2.0e-4 (given 0.001)", "--override");
        // the same values are fine; a different architecture can never be resumed
        assertEquals(0, train(out, "--resume", "--steps", "20", "--data", "ring8:500", "--batch", "16").code());
        CliFailuresTest.assertOneLine(train(out, "--resume", "--steps", "25", "--config", "tiny"), "--config", "cannot change");
        // --override changes them from here on, and the next checkpoint records it
        CliTest.Run over = train(out, "--resume", "--steps", "25", "--data", "ring8:800", "--override");
        assertEquals(0, over.code(), over.err());
        assertEquals("ring8:800", Checkpoints.metadata(out.resolve("checkpoint-25")).get("data_spec"));
        CliFailuresTest.assertOneLine(train(dir.resolve("new"), "--data", "ring8", "--config", "mlp", "--override"), "only applies with --resume");
    }

    @Test
    void aDivergingRunExitsNonZeroAndKeepsTheLastGoodCheckpoint() throws Exception {
        Path out = dir.resolve("nan");
        assertEquals(0, train(out, "--data", "ring8", "--config", "mlp", "--steps", "10", "--batch", "16", "--checkpoint-every", "10").code());
        CliTest.Run r = train(out, "--resume", "--steps", "30", "--lr", "1e30", "--override", "--checkpoint-every", "5");
        CliFailuresTest.assertOneLine(r, "training diverged at step 15", "last good one is " + out.toAbsolutePath().resolve("checkpoint-10").normalize(),
                "1.0e30");
        assertEquals(List.of("checkpoint-10"), checkpoints(out), "no NaN checkpoint written");
    }

    @Test
    void keepsTheNewestCheckpointsAndCleansWhatAKilledRunLeft() throws Exception {
        Path out = dir.resolve("keep");
        Files.createDirectories(out.resolve(".checkpoint-4.tmp-12345"));
        Files.writeString(out.resolve(".loss.png98765.tmp.png"), "half");
        CliTest.Run r = train(out, "--data", "ring8", "--config", "mlp", "--steps", "20", "--batch", "16", "--checkpoint-every", "2",
                "--keep-last", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("removed 2 temporary file(s)"), r.out());
        assertEquals(List.of("checkpoint-18", "checkpoint-20"), checkpoints(out));
        try (var s = Files.list(out)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".")), "no hidden temp files left");
        }
        assertTrue(r.out().contains("no sample grids (--sample-every 0)") && !r.out().contains("and samples"), r.out());
    }

    @Test
    void tinyFitsTheDataTheCliLoadsAndProgressSeparatesRateFromLoss() throws Exception {
        Path data = dir.resolve("pngs");
        Files.createDirectories(data);
        var img = new java.awt.image.BufferedImage(12, 12, java.awt.image.BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < 6; i++) javax.imageio.ImageIO.write(img, "png", data.resolve(i + ".png").toFile());
        CliTest.Run r = train(dir.resolve("tiny"), "--data", "png:" + data, "--config", "tiny", "--steps", "5", "--batch", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("tiny (U-Net [8, 16], 3x12x12"), r.out());
        assertTrue(r.out().matches("(?s).*/s loss \\d.*"), "rate and loss separated: " + r.out());
        assertEquals(3, dev.diffuse.models.unet.UNetConfig.read(dir.resolve("tiny/checkpoint-5/config.json")).inChannels());
    }

    @Test
    void helpDescribesEveryOptionWithItsDefault() {
        for (String cmd : new String[]{"train", "likelihood"}) {
            CliTest.Run h = run(cmd, "--help");
            assertEquals(0, h.code());
            var spec = DiffuseCommand.commandLine().getSubcommands().get(cmd).getCommandSpec();
            for (var o : spec.options()) {
                String desc = String.join(" ", o.description());
                assertFalse(desc.isBlank(), cmd + " " + o.longestName() + " has no description");
                if (o.defaultValue() != null)
                    assertTrue(desc.contains("${DEFAULT-VALUE}") || desc.contains(o.defaultValue()), cmd + " " + o.longestName() + " does not say its default");
            }
        }
    }
}
