package dev.diffuse.cli;

import static dev.diffuse.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.diffuse.models.io.Safetensors;
import dev.diffuse.models.unet.UNet2DModel;
import dev.diffuse.models.unet.UNetCheckpoint;
import dev.diffuse.models.unet.UNetConfig;
import dev.diffuse.runtime.JavaDevice;
import picocli.CommandLine;

/**
 * The CLI's one exception boundary: every failure is one line naming the cause (and the file) with exit code 2, and
 * --debug adds the stack trace. Each case here printed a stack trace, crashed, or misled before.
 */
class CliFailuresTest {
    @TempDir
    Path dir;

    /** A safetensors file with {@code header} and {@code data} as written. */
    static Path raw(Path file, String header, byte[] data) throws Exception {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        Files.write(file, ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).put(data).array());
        return file;
    }

    /** The tiny test U-Net (2 channels, 8x8, 3 classes) saved as a diffusers folder. */
    static Path tinyModel(Path dir) throws Exception {
        Path m = dir.resolve("tiny-model");
        try (UNet2DModel u = new UNet2DModel(UNetConfig.tiny(), JavaDevice.get(), 1, false)) {
            u.initialize(3);
            UNetCheckpoint.save(u, m);
        }
        return m;
    }

    static void assertOneLine(CliTest.Run r, String... parts) {
        assertEquals(2, r.code(), r.err());
        String line = r.err().strip();
        assertTrue(line.startsWith("diffuse: ") && !line.contains("\n"), "one line: " + r.err());
        for (String p : parts) assertTrue(line.contains(p), "expected '" + p + "' in: " + line);
        assertFalse(line.contains("internal error"), line);
    }

    @Test
    void hostileSafetensorsInputsAreOneLineNamingTheFile() throws Exception {
        Path model = tinyModel(dir);
        Path nul = raw(dir.resolve("null.safetensors"), "null", new byte[0]);
        assertOneLine(run("forward", "--model", model.toString(), "--input", nul.toString(), "--out", dir.resolve("o.safetensors").toString(),
                "--device", "java"), nul.toString(), "JSON null");
        Path wrap = raw(dir.resolve("wrap.safetensors"), "{\"sample\":{\"dtype\":\"F32\",\"shape\":[1073741824,1073741824,4],\"data_offsets\":[0,0]}}",
                new byte[0]);
        assertOneLine(run("forward", "--model", model.toString(), "--input", wrap.toString(), "--out", dir.resolve("o.safetensors").toString(),
                "--device", "java"), wrap.toString(), "2^63");
    }

    @Test
    void forwardReadsTheI64TimestepsAndLabelsPyTorchWrites() throws Exception {
        Path model = tinyModel(dir);
        int n = 2 * 8 * 8;
        ByteBuffer b = ByteBuffer.allocate(4 * n + 8 + 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) b.putFloat(0.01f * i);
        b.putLong(500).putLong(2);
        Path in = raw(dir.resolve("in.safetensors"), "{\"sample\":{\"dtype\":\"F32\",\"shape\":[1,2,8,8],\"data_offsets\":[0," + 4 * n + "]},"
                + "\"timestep\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[" + 4 * n + "," + (4 * n + 8) + "]},"
                + "\"class_labels\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[" + (4 * n + 8) + "," + (4 * n + 16) + "]}}", b.array());
        Path out = dir.resolve("out.safetensors");
        CliTest.Run r = run("forward", "--model", model.toString(), "--input", in.toString(), "--out", out.toString(), "--device", "java");
        assertEquals(0, r.code(), r.err());
        try (var f = Safetensors.open(out)) {
            assertArrayEquals(new int[]{1, 2, 8, 8}, f.shape("output"));
        }
    }

    @Test
    void badCountsAndHugeRequestsAreRefusedBeforeAllocating() {
        for (String n : new String[]{"0", "-1"})
            assertOneLine(run("likelihood", "--n", n, "--device", "java"), "--n must be at least 1");
        // 2e9 points of a 2-D mixture: 4e9 floats do not fit a Java array (NegativeArraySizeException / overflow before)
        assertOneLine(run("likelihood", "--model", "gmm:ring8", "--n", "2000000000", "--device", "java"), "2,000,000,000", "Lower --n");
        assertOneLine(run("train", "--data", "ring8", "--config", "mlp", "--steps", "2", "--device", "java", "--max-memory", "1m",
                "--out", dir.resolve("r").toString()), "training mlp at batch 64", "--max-memory");
        assertOneLine(run("train", "--max-memory", "lots", "--out", dir.resolve("r").toString()), "'lots' is not a size", "diffuse train --help");
        assertOneLine(run("eval-samplers", "--nfe", "0", "--device", "java"), "--nfe values must be at least 1");
    }

    @Test
    void aForwardTooLargeForTheBudgetIsRefusedWithTheEstimate() throws Exception {
        Path model = tinyModel(dir);
        int side = 256, n = 2 * side * side;
        ByteBuffer b = ByteBuffer.allocate(4 * n + 8).order(ByteOrder.LITTLE_ENDIAN);
        Path in = raw(dir.resolve("big.safetensors"), "{\"sample\":{\"dtype\":\"F32\",\"shape\":[1,2," + side + "," + side + "],\"data_offsets\":[0,"
                + 4 * n + "]},\"timestep\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[" + 4 * n + "," + (4 * n + 4) + "]},"
                + "\"class_labels\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[" + (4 * n + 4) + "," + (4 * n + 8) + "]}}", b.array());
        // the 4096x4096 case (about 5.4 GiB since inference activations share memory, Graph#plan) fits the
        // default limit of a machine with 24 GB; 8192x8192 (about 21.7 GiB) is the same refusal as this one
        assertOneLine(run("forward", "--model", model.toString(), "--input", in.toString(), "--out", dir.resolve("o").toString(),
                "--device", "java", "--max-memory", "4m"), "forward of", "[1, 2, 256, 256] (U-Net 21.2 MiB", "Use smaller images", "--max-memory");
    }

    @Test
    void invalidConfigJsonIsNamed() throws Exception {
        Path model = tinyModel(dir);
        Files.writeString(model.resolve("config.json"), "{\"in_channels\": 2,");
        assertOneLine(run("likelihood", "--model", model.toString(), "--n", "1", "--steps", "1", "--device", "java"),
                model.resolve("config.json").toString());
        raw(dir.resolve("in.safetensors"), "{}", new byte[0]);
        assertOneLine(run("forward", "--model", model.toString(), "--input", dir.resolve("in.safetensors").toString(), "--out",
                dir.resolve("o").toString(), "--device", "java"), "no tensor named \"sample\"");
    }

    @Test
    void aCorruptPngAmongManyIsNamed() throws Exception {
        Path data = dir.resolve("pngs");
        Files.createDirectories(data);
        var img = new java.awt.image.BufferedImage(8, 8, java.awt.image.BufferedImage.TYPE_BYTE_GRAY);
        for (int i = 0; i < 20; i++) javax.imageio.ImageIO.write(img, "png", data.resolve(String.format("%03d.png", i)).toFile());
        byte[] good = Files.readAllBytes(data.resolve("007.png"));
        byte[] bad = java.util.Arrays.copyOf(good, good.length);
        for (int i = 41; i < bad.length - 12; i++) bad[i] ^= 0x5A;   // scramble the compressed pixels, keep the chunk lengths
        Files.write(data.resolve("007.png"), bad);
        assertOneLine(run("train", "--data", "png:" + data, "--config", "tiny", "--steps", "1", "--device", "java",
                "--out", dir.resolve("run").toString()), data.resolve("007.png").toString(), "corrupt");
        Files.write(data.resolve("007.png"), java.util.Arrays.copyOf(good, 40));
        assertOneLine(run("train", "--data", "png:" + data, "--config", "tiny", "--steps", "1", "--device", "java",
                "--out", dir.resolve("run").toString()), data.resolve("007.png").toString(), "truncated");
    }

    @Test
    void eachKindOfOutOfMemoryNamesTheBudgetToLower() {
        assertTrue(Failures.describe(new OutOfMemoryError("Java heap space")).contains("DIFFUSE_JAVA_OPTS=-Xmx"));
        assertTrue(Failures.describe(new OutOfMemoryError("Requested array size exceeds VM limit")).contains("Java heap"));
        assertTrue(Failures.describe(new OutOfMemoryError("Cannot reserve 4096 bytes of direct buffer memory (allocated: 1, limit: 2)"))
                .contains("-XX:MaxDirectMemorySize"));
        String nativeOom = Failures.describe(new OutOfMemoryError("Unable to allocate 1073741824 bytes"));
        assertTrue(nativeOom.startsWith("out of native memory") && nativeOom.contains("--max-memory"), nativeOom);
        assertEquals("no such file or folder: /x/y", Failures.describe(new java.io.UncheckedIOException(new java.nio.file.NoSuchFileException("/x/y"))));
        assertEquals("first; second", Failures.describe(new IllegalArgumentException("first\n  second")));
    }

    /** A command that fails the way a bug or an exhausted heap would. */
    @CommandLine.Command(name = "boom")
    static final class Boom implements Callable<Integer> {
        @CommandLine.Option(names = "--what") String what;

        @Override
        public Integer call() {
            if ("oom".equals(what)) throw new OutOfMemoryError("Java heap space");
            Map<String, String> none = null;
            return none.size(); // NullPointerException
        }
    }

    static CliTest.Run runBoom(String... args) {
        CommandLine cl = DiffuseCommand.commandLine();
        cl.addSubcommand("boom", new Boom());
        java.io.StringWriter err = new java.io.StringWriter();
        cl.setErr(new java.io.PrintWriter(err));
        int code = cl.execute(args);
        return new CliTest.Run(code, "", err.toString());
    }

    @Test
    void outOfMemoryAndBugsAreOneLineAndDebugShowsTheTrace() {
        CliTest.Run oom = runBoom("boom", "--what", "oom");
        assertEquals(2, oom.code());
        assertTrue(oom.err().startsWith("diffuse: out of memory in the Java heap") && oom.err().contains("-Xmx")
                && oom.err().strip().lines().count() == 1, oom.err());
        CliTest.Run npe = runBoom("boom");
        assertEquals(2, npe.code());
        assertTrue(npe.err().contains("internal error: NullPointerException") && npe.err().strip().lines().count() == 1, npe.err());
        CliTest.Run debug = runBoom("boom", "--debug");
        assertEquals(2, debug.code());
        assertTrue(debug.err().contains("\tat dev.diffuse.cli.CliFailuresTest$Boom.call"), debug.err());
    }
}
