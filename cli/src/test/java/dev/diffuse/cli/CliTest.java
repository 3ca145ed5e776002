package dev.diffuse.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import picocli.CommandLine;

/** The diffuse command in-process: the main jobs write their files, and bad input gets one clear line and exit code 2. */
class CliTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        CommandLine cl = DiffuseCommand.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out));
        try {
            int code = cl.execute(args);
            return new Run(code, out.toString(), err.toString());
        } finally {
            System.setOut(old);
        }
    }

    @Test
    void sampleWritesAPngAndCsvAndReportsTheDistance() throws Exception {
        Path png = dir.resolve("s.png"), csv = dir.resolve("s.csv");
        Run r = run("sample", "--model", "gmm:aniso2d", "--sampler", "ddim", "--steps", "20", "--n", "300", "--device", "java",
                "--out", png.toString(), "--save", csv.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("sliced-W2 to exact samples"), r.out());
        assertTrue(Files.size(png) > 1000);
        assertEquals(301, Files.readAllLines(csv).size(), "header + one line per sample");
    }

    @Test
    void badInputGetsOneClearLineAndExitCode2() {
        Run sampler = run("sample", "--sampler", "euler-ancestral", "--n", "10", "--device", "java", "--out", dir.resolve("x.png").toString());
        assertEquals(2, sampler.code());
        assertTrue(sampler.err().contains("unknown sampler 'euler-ancestral'") && sampler.err().contains("ode-heun"), sampler.err());
        Run preset = run("sample", "--model", "gmm:spiral", "--device", "java");
        assertEquals(2, preset.code());
        assertTrue(preset.err().contains("ring8"), preset.err());
        Run device = run("sample", "--device", "cuda:0");
        assertEquals(2, device.code());
        assertTrue(device.err().contains("cl:gpu"), device.err());
        Run missing = run("forward", "--model", dir.resolve("nothing").toString(), "--input", "x", "--out", "y");
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("does not exist"), missing.err());
    }

    @Test
    void trainsAnMlpSamplesItAndRefusesToOverwriteARun() {
        Path out = dir.resolve("run");
        Run t = run("train", "--data", "ring8", "--config", "mlp", "--steps", "40", "--batch", "64", "--device", "java",
                "--out", out.toString(), "--sample-every", "40", "--checkpoint-every", "40", "--log-every", "10");
        assertEquals(0, t.code(), t.err());
        assertTrue(Files.isDirectory(out.resolve("checkpoint-40")) && Files.exists(out.resolve("loss.png")));
        Run s = run("sample", "--model", out.toString(), "--sampler", "ddim", "--steps", "10", "--n", "50", "--device", "java",
                "--out", dir.resolve("m.png").toString());
        assertEquals(0, s.code(), s.err());
        Run again = run("train", "--data", "ring8", "--config", "mlp", "--steps", "40", "--device", "java", "--out", out.toString());
        assertEquals(2, again.code());
        assertTrue(again.err().contains("--resume"), again.err());
    }

    @Test
    void devicesListsTheJavaDeviceAndWhatAutoPicks() {
        Run r = run("devices");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("java ") && r.out().contains("auto ->"), r.out());
    }
    @Test
    void flowAndConsistencyObjectivesTrainSampleWithTheirOwnSamplersAndResume() throws Exception {
        Path flow = dir.resolve("flow"), ct = dir.resolve("ct");
        Run f = run("train", "--data", "ring8", "--config", "mlp", "--objective", "flow", "--steps", "20", "--batch", "32", "--device", "java",
                "--out", flow.toString(), "--sample-every", "0", "--checkpoint-every", "10", "--log-every", "5");
        assertEquals(0, f.code(), f.err());
        assertTrue(Files.readString(flow.resolve("checkpoint-20/objective.json")).contains("flow"));
        Run fs = run("sample", "--model", flow.toString(), "--steps", "5", "--n", "40", "--device", "java", "--out", dir.resolve("f.png").toString());
        assertEquals(0, fs.code(), fs.err());
        assertTrue(fs.out().contains("flow-heun"), "a flow model samples with flow-heun by default: " + fs.out());
        Run wrong = run("sample", "--model", flow.toString(), "--sampler", "ddim", "--n", "4", "--device", "java", "--out", dir.resolve("w.png").toString());
        assertEquals(2, wrong.code());
        assertTrue(wrong.err().contains("flow-euler or flow-heun"), wrong.err());

        Run c = run("train", "--data", "ring8", "--config", "mlp", "--objective", "consistency", "--steps", "10", "--batch", "32", "--device", "java",
                "--out", ct.toString(), "--sample-every", "10", "--checkpoint-every", "5", "--log-every", "5");
        assertEquals(0, c.code(), c.err());
        assertTrue(Files.exists(ct.resolve("samples/final.png")) && Files.exists(ct.resolve("loss.png")));
        Run cr = run("train", "--objective", "consistency", "--data", "ring8", "--steps", "15", "--device", "java", "--out", ct.toString(),
                "--resume", "--sample-every", "0", "--log-every", "5");
        assertEquals(0, cr.code(), cr.err());
        assertTrue(cr.out().contains("at step 10"), cr.out());
        Run cs = run("sample", "--model", ct.toString(), "--steps", "2", "--n", "40", "--device", "java", "--out", dir.resolve("c.png").toString());
        assertEquals(0, cs.code(), cs.err());
        assertTrue(cs.out().contains("sampler: consistency, 2 steps") && cs.out().contains("checkpoint-15"), cs.out());
        Run mixed = run("train", "--objective", "flow", "--data", "ring8", "--steps", "20", "--device", "java", "--out", ct.toString(), "--resume");
        assertEquals(2, mixed.code());
        assertTrue(mixed.err().contains("objective consistency"), mixed.err());
        Run bad = run("train", "--objective", "score", "--data", "ring8", "--config", "mlp", "--steps", "2", "--device", "java",
                "--out", dir.resolve("bad").toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("epsilon, flow or consistency"), bad.err());
    }
    @Test
    void likelihoodOfAUNetCheckpointInBitsPerDimension() throws Exception {
        Path out = dir.resolve("tiny");
        // the tiny test U-Net (channels 8/16), for 1-channel 28x28 images
        var json = (com.fasterxml.jackson.databind.node.ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                dev.diffuse.models.unet.UNetConfig.tiny().toJson());
        json.put("in_channels", 1).put("out_channels", 1).put("sample_size", 28).putNull("num_class_embeds");
        Path cfg = dir.resolve("tiny28.json");
        Files.writeString(cfg, json.toString());
        Run t = run("train", "--data", "fashion-mnist", "--config", cfg.toString(), "--steps", "2", "--batch", "4", "--device", "java",
                "--out", out.toString(), "--sample-every", "0", "--log-every", "1");
        assertEquals(0, t.code(), t.err());
        Run l = run("likelihood", "--model", out.toString(), "--n", "2", "--steps", "2", "--device", "java");
        assertEquals(0, l.code(), l.err());
        var m = java.util.regex.Pattern.compile("([0-9.]+) bits/dim").matcher(l.out());
        assertTrue(m.find(), l.out());
        double bpd = Double.parseDouble(m.group(1));
        // an almost untrained network: far worse than a trained one (about 3-4) but finite and positive
        assertTrue(bpd > 0 && bpd < 100, l.out());
    }
}
