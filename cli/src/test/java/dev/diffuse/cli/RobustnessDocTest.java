package dev.diffuse.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.diffuse.models.io.Safetensors;
import dev.diffuse.models.unet.UNetCheckpoint;

/**
 * docs/robustness.md's probe table is what the CLI does: every row's command runs in-process against fixtures in a
 * scratch folder ($TMP), and its exit code and output (the first line on stderr for a failure, the "wrote" line for a
 * success) must equal the table's. {@code -Ddiffuse.updateDocs=true} rewrites those two columns instead.
 */
class RobustnessDocTest {
    static final Pattern ROW = Pattern.compile("^\\| (.+?) \\| `diffuse ([^`]+)` \\|\\s*(.*?)\\s*\\|\\s*(.*?)\\s*\\|$");

    @TempDir
    Path tmp;

    @Test
    void everyProbeInTheTableGivesWhatTheTableSays() throws Exception {
        Path doc = projectRoot().resolve("docs/robustness.md");
        List<String> lines = Files.readAllLines(doc);
        fixtures();
        boolean update = Boolean.getBoolean("diffuse.updateDocs");
        List<String> out = new ArrayList<>(), wrong = new ArrayList<>();
        int probes = 0;
        for (String line : lines) {
            Matcher m = ROW.matcher(line);
            if (!m.matches()) {
                out.add(line);
                continue;
            }
            probes++;
            String args = m.group(2);
            CliTest.Run r = CliTest.run(args.replace("$TMP", tmp.toString()).split(" "));
            String seen = "``" + escape(normalize(shown(r))) + "``";
            String row = "| " + m.group(1) + " | `diffuse " + args + "` | " + r.code() + " | " + seen + " |";
            if (!row.equals(line)) wrong.add("expected: " + line + "\n   actual: " + row);
            out.add(row);
        }
        assertTrue(probes >= 30, "the table has " + probes + " probes");
        if (update) Files.writeString(doc, String.join("\n", out) + "\n");
        else assertTrue(wrong.isEmpty(), wrong.size() + " probe(s) differ from docs/robustness.md (rerun with -Ddiffuse.updateDocs=true "
                + "after a deliberate change):\n" + String.join("\n", wrong));
    }

    /** What the user sees: the one stderr line of a failure, else the last "wrote" line of stdout. */
    static String shown(CliTest.Run r) {
        if (r.code() != 0) {
            String e = r.err().strip();
            assertFalse(e.isEmpty() || e.contains("\n"), "a failure prints exactly one line: " + r.err());
            return e;
        }
        return r.out().lines().filter(l -> l.startsWith("wrote")).reduce((a, b) -> b).orElse(r.out().strip());
    }

    /** $TMP for the scratch folder; machine-specific parts (devices, timings, memory of this machine) as "...". */
    String normalize(String s) {
        return s.replace(tmp.toString(), "$TMP")
                .replaceAll("the (OpenCL )?devices here are .*?(?= \\(see 'diffuse devices'\\)|\\. Use one of those)", "the $1devices here are ...")
                .replaceAll(" in \\d+\\.\\d+ s", " in ... s")
                .replaceAll("only [\\d.]+ [KMGT]?i?B of the", "only ... of the")   // what earlier tests in this JVM still hold
                .replaceAll("\\([\\d.]+ [KMGT]?i?B held by Diffuse\\)", "(... held by Diffuse)");
    }

    static String escape(String s) { return s.replace("|", "\\|"); }

    static Path projectRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !(Files.isDirectory(p.resolve("docs")) && Files.isRegularFile(p.resolve("pom.xml")) && Files.isDirectory(p.resolve("cli"))))
            p = p.getParent();
        assertNotNull(p, "project root (with docs/ and cli/) above " + Path.of("").toAbsolutePath());
        return p;
    }

    /** The files the probes name (see the fixture list in docs/robustness.md). */
    void fixtures() throws Exception {
        Path tiny = CliFailuresTest.tinyModel(tmp);
        copy(tiny, tmp.resolve("nan-model"));
        NonFinite.poison(tmp.resolve("nan-model").resolve(UNetCheckpoint.WEIGHTS), "conv_in.weight");
        copy(tiny, tmp.resolve("bad-config-model"));
        Files.writeString(tmp.resolve("bad-config-model/config.json"), "{\"in_channels\": 2,");
        Files.createDirectories(tmp.resolve("empty"));
        CliFailuresTest.raw(tmp.resolve("null-header.safetensors"), "null", new byte[0]);
        CliFailuresTest.raw(tmp.resolve("wrap.safetensors"), "{\"sample\":{\"dtype\":\"F32\",\"shape\":[1073741824,1073741824,4],\"data_offsets\":[0,0]}}", new byte[0]);
        CliFailuresTest.raw(tmp.resolve("overflow.safetensors"), "{\"sample\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,0]}}",
                new byte[0]);
        input(tmp.resolve("input-i64.safetensors"), 8, true, 2);
        input(tmp.resolve("input-label-9.safetensors"), 8, true, 9);
        input(tmp.resolve("input-256.safetensors"), 256, true, 0);
        input(tmp.resolve("input-no-timestep.safetensors"), 8, false, 0);
        Path pngs = tmp.resolve("pngs-corrupt"), plain = tmp.resolve("pngs");
        Files.createDirectories(pngs);
        Files.createDirectories(plain);
        var img = new java.awt.image.BufferedImage(8, 8, java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
        for (int i = 0; i < 20; i++) {
            javax.imageio.ImageIO.write(img, "png", pngs.resolve(String.format("%03d.png", i)).toFile());
            javax.imageio.ImageIO.write(img, "png", plain.resolve(String.format("%03d.png", i)).toFile());
        }
        byte[] bad = Files.readAllBytes(pngs.resolve("007.png"));
        for (int i = 41; i < bad.length - 12; i++) bad[i] ^= 0x5A;
        Files.write(pngs.resolve("007.png"), bad);
        CliTest.Run run = CliTest.run("train", "--data", "ring8:500", "--config", "mlp", "--steps", "10", "--batch", "16", "--sample-every", "0",
                "--device", "java", "--out", tmp.resolve("run").toString());
        assertEquals(0, run.code(), run.err());
    }

    /** sample (1, 2, side, side) F32, then an I64 timestep and class label unless {@code withTimestep} is false. */
    static void input(Path file, int side, boolean withTimestep, long label) throws Exception {
        int n = 2 * side * side;
        ByteBuffer b = ByteBuffer.allocate(4 * n + 16).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) b.putFloat((i % 17) / 17f - 0.5f);
        b.putLong(500).putLong(label);
        String sample = "\"sample\":{\"dtype\":\"F32\",\"shape\":[1,2," + side + "," + side + "],\"data_offsets\":[0," + 4 * n + "]}";
        String rest = ",\"timestep\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[" + 4 * n + "," + (4 * n + 8) + "]},"
                + "\"class_labels\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[" + (4 * n + 8) + "," + (4 * n + 16) + "]}";
        if (withTimestep) CliFailuresTest.raw(file, "{" + sample + rest + "}", b.array());
        else CliFailuresTest.raw(file, "{" + sample + ",\"class_labels\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[" + 4 * n + ","
                + (4 * n + 8) + "]}}", java.util.Arrays.copyOf(b.array(), 4 * n + 8));
    }

    static void copy(Path from, Path to) throws Exception {
        Files.createDirectories(to);
        try (var s = Files.list(from)) {
            for (Path p : s.toList()) Files.copy(p, to.resolve(p.getFileName()));
        }
    }

    /** Puts a NaN in the first value of a tensor of a safetensors file. */
    static final class NonFinite {
        static void poison(Path file, String tensor) throws Exception {
            var t = new java.util.LinkedHashMap<String, Safetensors.F32Tensor>();
            java.util.Map<String, String> meta;
            try (var f = Safetensors.open(file)) {
                meta = f.metadata();
                for (String n : f.names()) t.put(n, new Safetensors.F32Tensor(f.shape(n), f.readF32(n)));
            }
            t.get(tensor).data()[0] = Float.NaN;
            Safetensors.write(file, t, meta);
        }
    }
}
