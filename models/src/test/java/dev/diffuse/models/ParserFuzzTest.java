package dev.diffuse.models;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.diffuse.models.data.PngFolder;
import dev.diffuse.models.io.Safetensors;
import dev.diffuse.models.unet.UNet2DModel;
import dev.diffuse.models.unet.UNetConfig;
import dev.diffuse.runtime.MemoryBudgetException;

/**
 * Fuzzes the three readers that take files from users: safetensors ({@link Safetensors#read}, then every tensor read as
 * numbers), UNet config.json ({@link UNetConfig#fromJson}, then the model's size), and PNG images ({@link PngFolder#decode}).
 * Cases are valid seeds mutated at the byte level (bit flips, random bytes, insertions, deletions, truncation, splices)
 * and at the structure level (numbers replaced by extremes, values by null / lists / objects, header lengths and IHDR
 * sizes by boundary values). The only outcomes allowed are success or the documented error: an IOException or
 * IllegalArgumentException (or a MemoryBudgetException) with a one-line message; and no case may allocate more than its
 * budget (a small multiple of its input, or of the pixels its header declares), measured with the thread's allocation
 * counter. Seeded, so a failure reproduces; {@code -Dfuzz.cases=N} runs more.
 */
class ParserFuzzTest {
    static final int CASES = Integer.getInteger("fuzz.cases", 100_000);
    static final Path NAME = Path.of("fuzz.bin");
    static final com.sun.management.ThreadMXBean THREADS = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @TempDir
    Path dir;

    record Outcome(int ok, int refused, List<String> problems) {}

    interface Reader {
        /** Reads {@code input}; returns the bytes the case may allocate at most (its budget). */
        long read(byte[] input) throws Exception;
    }

    @Test
    void readersOnlySucceedOrGiveTheOneLineErrorWithinTheirBudget() throws Exception {
        SplittableRandom rnd = new SplittableRandom(20_251_202);
        int st = CASES * 2 / 5, cfg = CASES * 2 / 5, png = CASES - st - cfg;
        List<byte[]> stSeeds = safetensorsSeeds(), cfgSeeds = configSeeds(), pngSeeds = pngSeeds();
        long t0 = System.nanoTime();
        Outcome a = fuzz("safetensors", st, rnd, stSeeds, ParserFuzzTest::readSafetensors, true);
        long t1 = System.nanoTime();
        Outcome b = fuzz("config.json", cfg, rnd, cfgSeeds, ParserFuzzTest::readConfig, false);
        long t2 = System.nanoTime();
        Outcome c = fuzz("png", png, rnd, pngSeeds, ParserFuzzTest::readPng, true);
        long t3 = System.nanoTime();
        System.out.printf("parser fuzz: %,d cases in %.1f s: safetensors %,d in %.1f s (%,d read, %,d refused), config.json %,d in %.1f s "
                        + "(%,d, %,d), png %,d in %.1f s (%,d, %,d)%n", st + cfg + png, (t3 - t0) / 1e9, st, (t1 - t0) / 1e9, a.ok(), a.refused(),
                cfg, (t2 - t1) / 1e9, b.ok(), b.refused(), png, (t3 - t2) / 1e9, c.ok(), c.refused());
        List<String> problems = new ArrayList<>(a.problems());
        problems.addAll(b.problems());
        problems.addAll(c.problems());
        assertTrue(problems.isEmpty(), problems.size() + " bad outcomes, first ones:\n" + String.join("\n", problems.subList(0, Math.min(10, problems.size()))));
        for (Outcome o : new Outcome[]{a, b, c}) assertTrue(o.ok() > 0 && o.refused() > 0, "each reader both accepts and refuses: " + o);
    }

    static Outcome fuzz(String kind, int cases, SplittableRandom rnd, List<byte[]> seeds, Reader reader, boolean binary) {
        int ok = 0, refused = 0;
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < cases; i++) {
            byte[] input = i < seeds.size() ? seeds.get(i) : mutate(rnd, seeds, binary);
            long before = THREADS.getCurrentThreadAllocatedBytes();
            long budget;
            try {
                budget = reader.read(input);
                ok++;
            } catch (IOException | IllegalArgumentException | MemoryBudgetException e) {
                refused++;
                budget = 1L << 20;
                String m = e.getMessage();
                if (m == null || m.isBlank() || m.contains("\n"))
                    problems.add(kind + " case " + i + ": the error is not one line: " + e + " for input " + preview(input));
            } catch (Throwable e) {
                problems.add(kind + " case " + i + ": " + e + " for input " + preview(input));
                continue;
            }
            long used = THREADS.getCurrentThreadAllocatedBytes() - before;
            long allowed = budget + 64L * input.length + (8L << 20);
            if (used > allowed)
                problems.add(String.format("%s case %d allocated %,d bytes, budget %,d, for input %s", kind, i, used, allowed, preview(input)));
        }
        return new Outcome(ok, refused, problems);
    }

    // ------------------------------------------------------------------------------------------------ readers

    static long readSafetensors(byte[] b) throws Exception {
        long values = 0;
        try (var f = Safetensors.read(NAME, b)) {
            for (String n : f.names()) {
                values += f.readNumbers(n).length;
                f.metadata();
            }
        }
        return 8 * values; // the float arrays read (and their copies)
    }

    static long readConfig(byte[] b) {
        UNetConfig c = UNetConfig.fromJson(new String(b, StandardCharsets.UTF_8));
        // what train and forward do next: the model's size for one sample of a small size (nothing is allocated)
        UNet2DModel.bytesNeeded(c.withSampleSize(c.sampleSize() == null ? 8 : Math.min(c.sampleSize(), 64)), 1, true);
        return 4L << 20;
    }

    static long readPng(byte[] b) throws Exception {
        BufferedImage im = PngFolder.decode(NAME, b);
        return 16L * im.getWidth() * im.getHeight(); // the raster and the decoder's row buffers
    }

    // ------------------------------------------------------------------------------------------------ seeds

    List<byte[]> safetensorsSeeds() throws IOException {
        List<byte[]> out = new ArrayList<>();
        Map<String, Safetensors.F32Tensor> t = new LinkedHashMap<>();
        t.put("conv.weight", new Safetensors.F32Tensor(new int[]{2, 1, 3, 3}, new float[18]));
        t.put("conv.bias", new Safetensors.F32Tensor(new int[]{2}, new float[]{1, -2}));
        t.put("scalar", new Safetensors.F32Tensor(new int[]{}, new float[]{3}));
        Path p = dir.resolve("seed.safetensors");
        Safetensors.write(p, t, Map.of("format", "pt", "step", "7"));
        out.add(Files.readAllBytes(p));
        Safetensors.write(p, Map.of("x", new Safetensors.F32Tensor(new int[]{0, 5}, new float[0])), Map.of());
        out.add(Files.readAllBytes(p));
        out.add(raw("{\"t\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]},\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[16,20]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[20,22]},\"u\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[22,24]}}", 24));
        out.add(raw("{\"__metadata__\":{\"a\":\"b\"},\"d\":{\"dtype\":\"F64\",\"shape\":[1,1],\"data_offsets\":[0,8]}}", 8));
        return out;
    }

    static byte[] raw(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).array();
    }

    static List<byte[]> configSeeds() {
        List<byte[]> out = new ArrayList<>();
        for (UNetConfig c : new UNetConfig[]{UNetConfig.small(), UNetConfig.small(true), UNetConfig.tiny(), UNetConfig.ddpmCifar10()})
            out.add(c.toJson().getBytes(StandardCharsets.UTF_8));
        out.add("{\"_class_name\": \"UNet2DModel\", \"sample_size\": [16, 16], \"in_channels\": 1, \"out_channels\": 1, \"block_out_channels\": [32, 64],"
                .concat(" \"down_block_types\": [\"DownBlock2D\", \"AttnDownBlock2D\"], \"up_block_types\": [\"AttnUpBlock2D\", \"UpBlock2D\"],")
                .concat(" \"layers_per_block\": 1, \"norm_num_groups\": 8, \"attention_head_dim\": null, \"num_class_embeds\": 4}").getBytes(StandardCharsets.UTF_8));
        out.add("{}".getBytes(StandardCharsets.UTF_8));
        return out;
    }

    static List<byte[]> pngSeeds() throws IOException {
        List<byte[]> out = new ArrayList<>();
        int[][] kinds = {{BufferedImage.TYPE_BYTE_GRAY, 8, 8}, {BufferedImage.TYPE_INT_RGB, 5, 7}, {BufferedImage.TYPE_INT_ARGB, 6, 3},
                {BufferedImage.TYPE_USHORT_GRAY, 4, 4}, {BufferedImage.TYPE_BYTE_INDEXED, 9, 2}, {BufferedImage.TYPE_BYTE_BINARY, 10, 3}};
        SplittableRandom r = new SplittableRandom(1);
        for (int[] k : kinds) {
            BufferedImage im = new BufferedImage(k[1], k[2], k[0]);
            for (int y = 0; y < k[2]; y++) for (int x = 0; x < k[1]; x++) im.setRGB(x, y, r.nextInt());
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            assertTrue(ImageIO.write(im, "png", b));
            out.add(b.toByteArray());
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------ mutations

    static final String[] EXTREMES = {"0", "-1", "1", "2147483647", "2147483648", "4294967296", "9223372036854775807",
            "9223372036854775808", "18446744073709551616", "-9223372036854775808", "1.5", "1e308", "-1e308", "1e-320", "NaN",
            "null", "[]", "{}", "\"x\"", "true", "[1,2,3]", "[[[[[[[[[[1]]]]]]]]]]", "99999999999999999999999999999999999999"};

    static byte[] mutate(SplittableRandom r, List<byte[]> seeds, boolean binary) {
        byte[] b = seeds.get(r.nextInt(seeds.size())).clone();
        int rounds = 1 + r.nextInt(r.nextInt(4) == 0 ? 8 : 2);
        for (int k = 0; k < rounds; k++) {
            int op = r.nextInt(binary ? 9 : 8);
            b = switch (op) {
                case 0 -> flipBit(r, b);
                case 1 -> setByte(r, b);
                case 2 -> insert(r, b);
                case 3 -> delete(r, b);
                case 4 -> b.length == 0 ? b : java.util.Arrays.copyOf(b, r.nextInt(b.length));   // truncate
                case 5 -> splice(r, b, seeds.get(r.nextInt(seeds.size())));
                case 6, 7 -> replaceToken(r, b);
                default -> binaryField(r, b);
            };
        }
        return b;
    }

    static byte[] flipBit(SplittableRandom r, byte[] b) {
        if (b.length > 0) b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
        return b;
    }

    static byte[] setByte(SplittableRandom r, byte[] b) {
        if (b.length > 0) b[r.nextInt(b.length)] = (byte) (r.nextBoolean() ? r.nextInt(256) : new int[]{0, 0xFF, 0x7F, 0x80, '"', '{', '[', ':', ','}[r.nextInt(9)]);
        return b;
    }

    static byte[] insert(SplittableRandom r, byte[] b) {
        int at = r.nextInt(b.length + 1), n = 1 + r.nextInt(8);
        byte[] o = new byte[b.length + n];
        System.arraycopy(b, 0, o, 0, at);
        for (int i = 0; i < n; i++) o[at + i] = (byte) r.nextInt(256);
        System.arraycopy(b, at, o, at + n, b.length - at);
        return o;
    }

    static byte[] delete(SplittableRandom r, byte[] b) {
        if (b.length == 0) return b;
        int at = r.nextInt(b.length), n = Math.min(b.length - at, 1 + r.nextInt(8));
        byte[] o = new byte[b.length - n];
        System.arraycopy(b, 0, o, 0, at);
        System.arraycopy(b, at + n, o, at, b.length - at - n);
        return o;
    }

    static byte[] splice(SplittableRandom r, byte[] a, byte[] b) {
        int i = r.nextInt(a.length + 1), j = r.nextInt(b.length + 1);
        byte[] o = new byte[i + b.length - j];
        System.arraycopy(a, 0, o, 0, i);
        System.arraycopy(b, j, o, i, b.length - j);
        return o;
    }

    /** Replaces a JSON number, string, or bracketed value in the text by an extreme value. */
    static byte[] replaceToken(SplittableRandom r, byte[] b) {
        String s = new String(b, StandardCharsets.ISO_8859_1);
        List<int[]> tokens = new ArrayList<>();
        var m = java.util.regex.Pattern.compile("-?\\d+(\\.\\d+)?([eE][-+]?\\d+)?|\"[^\"]*\"|null|true|false").matcher(s);
        while (m.find()) tokens.add(new int[]{m.start(), m.end()});
        if (tokens.isEmpty()) return b;
        int[] t = tokens.get(r.nextInt(tokens.size()));
        String rep = EXTREMES[r.nextInt(EXTREMES.length)];
        return (s.substring(0, t[0]) + rep + s.substring(t[1])).getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Overwrites a length or size field: the safetensors header length, or a PNG IHDR width / height / chunk length. */
    static byte[] binaryField(SplittableRandom r, byte[] b) {
        long[] values = {0, 1, 2, 7, 8, 255, 65535, 1L << 24, Integer.MAX_VALUE, 0xFFFFFFFFL, 1L << 40, Long.MAX_VALUE, -1, b.length, b.length - 8};
        long v = values[r.nextInt(values.length)];
        boolean png = b.length > 8 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G';
        if (!png && b.length >= 8) {
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, v);
            return b;
        }
        int[] fields = {8, 16, 20, 33};   // IHDR length, width, height, the next chunk's length
        int at = fields[r.nextInt(fields.length)];
        if (at + 4 <= b.length) ByteBuffer.wrap(b).putInt(at, (int) v);
        return b;
    }

    static String preview(byte[] b) {
        String s = new String(b, 0, Math.min(b.length, 160), StandardCharsets.ISO_8859_1).replaceAll("[^\\x20-\\x7e]", ".");
        return b.length + " bytes \"" + s + (b.length > 160 ? "...\"" : "\"");
    }
}
