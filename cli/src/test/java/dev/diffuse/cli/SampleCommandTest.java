package dev.diffuse.cli;

import static dev.diffuse.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.diffuse.models.unet.UNet2DModel;
import dev.diffuse.models.unet.UNetCheckpoint;
import dev.diffuse.models.unet.UNetConfig;
import dev.diffuse.runtime.JavaDevice;

/** diffuse sample on model folders: checks before work, first-run defaults, streaming, non-finite outputs, guidance. */
class SampleCommandTest {
    @TempDir
    Path dir;

    /** A tiny 1-channel 8x8 U-Net (random weights) with the given class rows and objective.json text. */
    Path tiny(String name, Integer classes, String objectiveJson, Map<String, Float> biases) throws Exception {
        ObjectNode json = (ObjectNode) new ObjectMapper().readTree(UNetConfig.tiny().toJson());
        json.put("in_channels", 1).put("out_channels", 1);
        if (classes == null) json.putNull("num_class_embeds");
        else json.put("num_class_embeds", classes);
        Path f = dir.resolve(name);
        Files.createDirectories(f);
        Files.writeString(f.resolve("c.json"), json.toString());
        try (UNet2DModel m = new UNet2DModel(UNetConfig.read(f.resolve("c.json")), JavaDevice.get(), 1, false)) {
            m.initialize(3);
            for (var b : biases.entrySet()) {
                var t = m.namedParameters().get(b.getKey());
                float[] v = new float[(int) t.numel()];
                java.util.Arrays.fill(v, b.getValue());
                t.upload(v);
            }
            UNetCheckpoint.save(m, f);
        }
        Files.delete(f.resolve("c.json"));
        if (objectiveJson != null) Files.writeString(f.resolve("objective.json"), objectiveJson);
        return f;
    }

    @Test
    void outputNamesAreCheckedBeforeAnyWork() throws Exception {
        Path model = tiny("m", null, null, Map.of());
        for (String m : new String[]{"gmm:aniso2d", model.toString()}) {
            CliTest.Run jpg = run("sample", "--model", m, "--n", "4", "--device", "java", "--out", dir.resolve("x.jpg").toString());
            assertEquals(2, jpg.code());
            assertEquals("diffuse: --out " + dir.resolve("x.jpg") + ": writes .png only; give a name ending in .png", jpg.err().strip());
            assertFalse(jpg.out().contains("device:"), "refused before the device was even chosen: " + jpg.out());
            assertFalse(Files.exists(dir.resolve("x.jpg")));
        }
        CliTest.Run txt = run("sample", "--model", model.toString(), "--device", "java", "--out", dir.resolve("g.png").toString(),
                "--save", dir.resolve("s.txt").toString());
        assertEquals(2, txt.code());
        assertTrue(txt.err().contains("--save") && txt.err().contains(".csv or .npy"), txt.err());
        Files.writeString(dir.resolve("file"), "x");
        CliTest.Run under = run("sample", "--model", model.toString(), "--device", "java", "--out", dir.resolve("file/g.png").toString());
        assertEquals(2, under.code());
        assertTrue(under.err().contains("is not a folder"), under.err());
    }

    @Test
    void aModelFolderWithNoFlagsDraws64ImagesAtAbout25Evaluations() throws Exception {
        Path model = tiny("m", null, null, Map.of());
        Path png = dir.resolve("grid.png");
        CliTest.Run r = run("sample", "--model", model.toString(), "--device", "java", "--out", png.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("sampler: ddim, 25 steps, n = 64 in batches of 64"), r.out());
        assertTrue(r.out().contains("sampled: 64 in"), r.out());
        assertTrue(Files.size(png) > 100);
        java.io.StringWriter help = new java.io.StringWriter();
        picocli.CommandLine cl = DiffuseCommand.commandLine();
        cl.setOut(new java.io.PrintWriter(help));
        assertEquals(0, cl.execute("sample", "--help"));
        String text = help.toString().replaceAll("\\s+", " ");
        for (String s : new String[]{"UNet2DModel", "64 images", "ddim 25 steps", "flow-heun 12", "--guidance", "--allow-nonfinite", "--grid-max"})
            assertTrue(text.contains(s), "sample --help mentions " + s + ":\n" + help);
    }

    @Test
    void largeNStreamsInBatchesToNpyOrCsvWithProgressAndACappedGrid() throws Exception {
        Path model = tiny("m", null, null, Map.of());
        Path npy = dir.resolve("s.npy"), csv = dir.resolve("s.csv"), png = dir.resolve("g.png");
        CliTest.Run r = run("sample", "--model", model.toString(), "--n", "70", "--batch", "16", "--steps", "2", "--device", "java",
                "--out", png.toString(), "--save", npy.toString(), "--grid-max", "10");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("5 batches") && r.out().contains("the first 10 of 70 samples"), r.out());
        assertTrue(r.err().contains("sampling: 70 / 70 images (100.0%)"), r.err());
        byte[] b = Files.readAllBytes(npy);
        int headerLen = (b[8] & 255) | (b[9] & 255) << 8;
        String header = new String(b, 10, headerLen, java.nio.charset.StandardCharsets.US_ASCII);
        assertTrue(header.contains("'shape': (70, 1, 8, 8)") && header.contains("'<f4'"), header);
        assertEquals(0, (10 + headerLen) % 64, "npy data is 64-byte aligned");
        assertEquals(10 + headerLen + 70 * 64 * 4, b.length);
        float first = ByteBuffer.wrap(b, 10 + headerLen, 4).order(ByteOrder.LITTLE_ENDIAN).getFloat();
        assertTrue(first >= -1 && first <= 1);
        CliTest.Run c = run("sample", "--model", model.toString(), "--n", "20", "--batch", "8", "--steps", "2", "--device", "java",
                "--out", png.toString(), "--save", csv.toString());
        assertEquals(0, c.code(), c.err());
        assertEquals(21, Files.readAllLines(csv).size(), "header + one row per sample");
        assertEquals(64, Files.readAllLines(csv).get(1).split(",").length);
    }

    @Test
    void nonFiniteImagesFailWithTheirCountAndWriteNothingUnlessAllowed() throws Exception {
        Path model = tiny("huge", null, null, Map.of("conv_out.bias", 3e38f));
        Path png = dir.resolve("g.png"), csv = dir.resolve("s.csv");
        CliTest.Run r = run("sample", "--model", model.toString(), "--n", "3", "--steps", "2", "--no-clip", "--device", "java",
                "--out", png.toString(), "--save", csv.toString());
        assertEquals(2, r.code());
        assertEquals("diffuse: 3 of 3 images hold NaN or infinite values (the model or the sampler diverged); nothing was written; "
                + "--allow-nonfinite writes them anyway", r.err().strip());
        assertFalse(Files.exists(png) || Files.exists(csv));
        try (var s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary file left");
        }
        CliTest.Run ok = run("sample", "--model", model.toString(), "--n", "3", "--steps", "2", "--no-clip", "--device", "java",
                "--out", png.toString(), "--save", csv.toString(), "--allow-nonfinite");
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().contains("warning: 3 of 3 images hold NaN"), ok.out());
        assertTrue(Files.exists(png) && Files.exists(csv));
    }

    @Test
    void guidanceAndClassForClassConditionalModels() throws Exception {
        Path cond = tiny("cond", 3, "{\"objective\": \"epsilon\", \"null_class\": 2}", Map.of());
        Path png = dir.resolve("g.png");
        CliTest.Run r = run("sample", "--model", cond.toString(), "--n", "4", "--steps", "2", "--class", "1", "--guidance", "3", "--device", "java",
                "--out", png.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("2 classes") && r.out().contains("class 1, guidance 3.0"), r.out());
        CliTest.Run bad = run("sample", "--model", cond.toString(), "--class", "2", "--device", "java", "--out", png.toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().startsWith("diffuse: --class must be in 0..2 except 2"), bad.err());
        Path plain = tiny("plain", 3, null, Map.of());
        CliTest.Run noNull = run("sample", "--model", plain.toString(), "--class", "0", "--guidance", "2", "--device", "java", "--out", png.toString());
        assertEquals(2, noNull.code());
        assertTrue(noNull.err().contains("--guidance: ") && noNull.err().contains("dropped labels"), noNull.err());
        CliTest.Run gmm = run("sample", "--guidance", "2", "--device", "java", "--out", png.toString());
        assertEquals(2, gmm.code());
        assertTrue(gmm.err().contains("--guidance applies to model folders"), gmm.err());
    }
}
