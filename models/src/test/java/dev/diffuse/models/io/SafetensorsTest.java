package dev.diffuse.models.io;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path dir;

    @Test
    void roundTripsTensorsAndMetadata() throws IOException {
        Map<String, Safetensors.F32Tensor> t = new LinkedHashMap<>();
        t.put("b.weight", new Safetensors.F32Tensor(new int[]{2, 3}, new float[]{1, 2, 3, 4, 5, 6}));
        t.put("a.bias", new Safetensors.F32Tensor(new int[]{3}, new float[]{-1, 0.5f, Float.MIN_VALUE}));
        t.put("scalar", new Safetensors.F32Tensor(new int[]{}, new float[]{42}));
        Path p = dir.resolve("m.safetensors");
        Safetensors.write(p, t, Map.of("format", "pt"));
        assertEquals(0, (ByteBuffer.wrap(Files.readAllBytes(p), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong()) % 8, "header padded to 8");
        try (var f = Safetensors.open(p)) {
            assertEquals(3, f.names().size());
            assertArrayEquals(new int[]{2, 3}, f.shape("b.weight"));
            assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6}, f.readF32("b.weight"));
            assertArrayEquals(new float[]{-1, 0.5f, Float.MIN_VALUE}, f.readF32("a.bias"));
            assertArrayEquals(new float[]{42}, f.readF32("scalar"));
            assertEquals("pt", f.metadata().get("format"));
            assertThrows(IllegalArgumentException.class, () -> f.readF32("missing"));
        }
    }

    @Test
    void readsF16AndBf16AsFloat32() throws IOException {
        // 1.5 in F16 = 0x3E00, in BF16 = 0x3FC0
        String header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]},\"b\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[2,4]}}";
        Path p = raw(header, new byte[]{0x00, 0x3E, (byte) 0xC0, 0x3F});
        try (var f = Safetensors.open(p)) {
            assertEquals(1.5f, f.readF32("h")[0]);
            assertEquals(1.5f, f.readF32("b")[0]);
        }
    }

    @Test
    void rejectsCorruptFilesWithAReason() throws IOException {
        assertBad(raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", new byte[4]), "needs 8 bytes");
        assertBad(raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[8]), "data buffer");
        assertBad(raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]), "gap or overlap");
        assertBad(raw("{\"x\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), "unknown dtype");
        assertBad(raw("not json", new byte[0]), "JSON");
        Path tiny = dir.resolve("tiny");
        Files.write(tiny, new byte[3]);
        assertBad(tiny, "shorter");
        Path huge = dir.resolve("huge");
        Files.write(huge, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
        assertBad(huge, "header length");
    }

    @Test
    void hostileHeadersGetAReasonNotACrash() throws IOException {
        // each of these crashed (NPE, ArithmeticException) or passed validation before
        assertBad(raw("null", new byte[0]), "JSON null");
        assertBad(raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,0]}}", new byte[0]),
                "more than 2^63 bytes");
        // 2^62 elements x 4 bytes wraps to 0 in 64 bits: it matched offsets [0, 0] before
        assertBad(raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[1073741824,1073741824,4],\"data_offsets\":[0,0]}}", new byte[0]), "2^63");
        assertBad(raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,1],\"data_offsets\":[0,0]}}", new byte[0]),
                "invalid dimension");
        // offsets beyond a long read as 0 through Number.longValue() before
        assertBad(raw("{\"x\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[18446744073709551616,18446744073709551616]}}", new byte[0]),
                "0 <= begin <= end");
        assertBad(raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", new byte[4]), "invalid dimension");
        assertBad(raw("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", new byte[8]), "0 <= begin <= end");
        assertBad(raw("[1, 2]", new byte[0]), "not a JSON object");
    }

    @Test
    void weightsWithNanOrInfinityAreRefusedNamingTheTensor() throws IOException {
        Path p = dir.resolve("nan.safetensors");
        Safetensors.write(p, Map.of("conv_in.weight", new Safetensors.F32Tensor(new int[]{2, 2}, new float[]{1, Float.NaN, 3, Float.POSITIVE_INFINITY})),
                Map.of());
        try (var f = Safetensors.open(p)) {
            assertEquals(4, f.readF32("conv_in.weight").length, "raw reads still see the values");
            var e = assertThrows(IllegalArgumentException.class, () -> f.readWeights("conv_in.weight"));
            assertTrue(e.getMessage().contains("'conv_in.weight' [2, 2] holds 2 non-finite values (first: NaN at index 1)"), e.getMessage());
        }
    }

    @Test
    void readsIntegerTensorsAsNumbers() throws IOException {
        // what torch writes for timesteps (I64) and class labels (I32 here)
        String header = "{\"t\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]},\"y\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[16,24]}}";
        ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putLong(999).putLong(-3).putInt(7).putInt(0);
        try (var f = Safetensors.open(raw(header, b.array()))) {
            assertArrayEquals(new float[]{999, -3}, f.readNumbers("t"));
            assertArrayEquals(new float[]{7, 0}, f.readNumbers("y"));
            assertThrows(IllegalArgumentException.class, () -> f.readF32("t"), "weights stay float-only");
        }
    }

    @Test
    void writtenFilesFollowTheUmaskLikeOtherFiles() throws IOException {
        Path p = dir.resolve("perm.safetensors"), ref = Files.createFile(dir.resolve("reference"));
        Safetensors.write(p, Map.of("x", new Safetensors.F32Tensor(new int[]{1}, new float[]{1})), Map.of());
        // createTempFile made them 0600 whatever the umask; now they get the default permissions, as any new file
        assertEquals(Files.getPosixFilePermissions(ref), Files.getPosixFilePermissions(p));
    }

    @Test
    void aFailedWriteLeavesTheOldFileIntact() throws IOException {
        Path p = dir.resolve("keep.safetensors");
        Safetensors.write(p, Map.of("x", new Safetensors.F32Tensor(new int[]{1}, new float[]{7})), Map.of());
        Map<String, Safetensors.F32Tensor> bad = new LinkedHashMap<>();
        bad.put("y", null); // NullPointerException half way through
        assertThrows(RuntimeException.class, () -> Safetensors.write(p, bad, Map.of()));
        try (var f = Safetensors.open(p)) {
            assertEquals(7f, f.readF32("x")[0]);
        }
        try (var files = Files.list(dir)) {
            assertEquals(java.util.List.of(p), files.toList(), "no temp file left behind");
        }
    }

    private Path raw(String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Path p = Files.createTempFile(dir, "raw", ".safetensors");
        Files.write(p, b.array());
        return p;
    }

    private static void assertBad(Path p, String why) {
        var e = assertThrows(IOException.class, () -> Safetensors.open(p).close());
        assertTrue(e.getMessage().contains(why), "expected '" + why + "' in: " + e.getMessage());
    }
}
