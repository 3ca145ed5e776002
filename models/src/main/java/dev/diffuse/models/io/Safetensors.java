package dev.diffuse.models.io;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The safetensors format (spec §5.1): 8-byte little-endian header length N, N bytes of JSON
 * {@code {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {..}}}, then the packed data buffer.
 * Reading memory-maps the file and validates everything a corrupt or hostile file could get wrong (header size,
 * dtypes, shapes against byte ranges, gaps/overlaps, the buffer ending exactly at the end of the file). F32 is read
 * as is; F16 and BF16 are widened to F32. Writing is atomic (temp file in the same folder, then rename) and follows
 * the current writer: tensors sorted by name (all F32), JSON padded with spaces to a multiple of 8.
 */
public final class Safetensors {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER = 100_000_000;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Safetensors() {}

    /** One tensor's entry in the header. */
    public record Entry(String name, String dtype, int[] shape, long begin, long end) {
        public long numel() {
            long n = 1;
            for (int s : shape) n *= s;
            return n;
        }
    }

    /** An open, validated, memory-mapped file. Close it to unmap. */
    public static final class File implements AutoCloseable {
        private final Path path;
        private final Arena arena;
        private final MemorySegment data;
        private final Map<String, Entry> entries;
        private final Map<String, String> metadata;

        private File(Path path, Arena arena, MemorySegment data, Map<String, Entry> entries, Map<String, String> metadata) {
            this.path = path;
            this.arena = arena;
            this.data = data;
            this.entries = entries;
            this.metadata = metadata;
        }

        /** Tensor names in header order. */
        public List<String> names() { return List.copyOf(entries.keySet()); }

        public boolean has(String name) { return entries.containsKey(name); }

        public Entry entry(String name) {
            Entry e = entries.get(name);
            if (e == null) throw new IllegalArgumentException(path + ": no tensor named '" + name + "'");
            return e;
        }

        public int[] shape(String name) { return entry(name).shape().clone(); }

        public Map<String, String> metadata() { return metadata; }

        /** The tensor as float32 values (F16 and BF16 widened). */
        public float[] readF32(String name) {
            Entry e = entry(name);
            int n = Math.toIntExact(e.numel());
            float[] out = new float[n];
            MemorySegment s = data.asSlice(e.begin(), e.end() - e.begin());
            switch (e.dtype()) {
                case "F32" -> MemorySegment.copy(s, F32, 0, out, 0, n);
                case "F16" -> { for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(s.getAtIndex(I16, i)); }
                case "BF16" -> { for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat((s.getAtIndex(I16, i) & 0xFFFF) << 16); }
                default -> throw new IllegalArgumentException(path + ": tensor '" + name + "' has dtype " + e.dtype()
                        + "; only F32, F16 and BF16 can be read as float32");
            }
            return out;
        }

        @Override
        public void close() { arena.close(); }
    }

    private static final Map<String, Integer> DTYPE_BYTES = Map.ofEntries(Map.entry("F64", 8), Map.entry("F32", 4),
            Map.entry("F16", 2), Map.entry("BF16", 2), Map.entry("I64", 8), Map.entry("I32", 4), Map.entry("I16", 2),
            Map.entry("I8", 1), Map.entry("U64", 8), Map.entry("U32", 4), Map.entry("U16", 2), Map.entry("U8", 1),
            Map.entry("BOOL", 1), Map.entry("F8_E4M3", 1), Map.entry("F8_E5M2", 1));

    /** Opens and validates {@code path}; every problem is reported with the file name and what was wrong. */
    public static File open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw bad(path, "file is " + size + " bytes, shorter than the 8-byte header length");
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long n = all.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (n < 2 || n > MAX_HEADER || 8 + n > size)
                throw bad(path, "header length " + n + " is invalid for a file of " + size + " bytes (not a safetensors file?)");
            String json = new String(all.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            Map<String, Object> header;
            try {
                header = JSON.readValue(json.strip(), new TypeReference<LinkedHashMap<String, Object>>() {});
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw bad(path, "header is not a JSON object: " + e.getOriginalMessage());
            }
            MemorySegment data = all.asSlice(8 + n);
            Map<String, String> meta = new LinkedHashMap<>();
            Map<String, Entry> entries = new LinkedHashMap<>();
            for (var kv : header.entrySet()) {
                if (kv.getKey().equals("__metadata__")) {
                    if (!(kv.getValue() instanceof Map<?, ?> m)) throw bad(path, "__metadata__ must be a string map");
                    m.forEach((k, v) -> meta.put(String.valueOf(k), String.valueOf(v)));
                    continue;
                }
                entries.put(kv.getKey(), entry(path, kv.getKey(), kv.getValue()));
            }
            validateLayout(path, entries.values(), data.byteSize());
            return new File(path, arena, data, Collections.unmodifiableMap(entries), Collections.unmodifiableMap(meta));
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static Entry entry(Path path, String name, Object v) throws IOException {
        if (!(v instanceof Map<?, ?> m)) throw bad(path, "entry '" + name + "' is not an object");
        if (!(m.get("dtype") instanceof String dtype) || !DTYPE_BYTES.containsKey(dtype))
            throw bad(path, "tensor '" + name + "' has unknown dtype " + m.get("dtype"));
        if (!(m.get("shape") instanceof List<?> sh)) throw bad(path, "tensor '" + name + "' has no shape list");
        if (!(m.get("data_offsets") instanceof List<?> off) || off.size() != 2) throw bad(path, "tensor '" + name + "' needs data_offsets [begin, end]");
        int[] shape = new int[sh.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            if (!(sh.get(i) instanceof Number d) || d.longValue() < 0 || d.longValue() > Integer.MAX_VALUE)
                throw bad(path, "tensor '" + name + "' has an invalid dimension " + sh.get(i));
            shape[i] = d.intValue();
            numel = Math.multiplyExact(numel, shape[i]);
        }
        if (!(off.get(0) instanceof Number b) || !(off.get(1) instanceof Number e)) throw bad(path, "tensor '" + name + "' has non-numeric offsets");
        long begin = b.longValue(), end = e.longValue();
        if (end - begin != numel * DTYPE_BYTES.get(dtype))
            throw bad(path, "tensor '" + name + "' " + dtype + Arrays.toString(shape) + " needs " + numel * DTYPE_BYTES.get(dtype)
                    + " bytes but its offsets [" + begin + ", " + end + "] span " + (end - begin));
        return new Entry(name, dtype, shape, begin, end);
    }

    private static void validateLayout(Path path, java.util.Collection<Entry> entries, long dataBytes) throws IOException {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort((a, b) -> Long.compare(a.begin(), b.begin()));
        long at = 0;
        for (Entry e : sorted) {
            if (e.begin() != at) throw bad(path, "tensor '" + e.name() + "' starts at " + e.begin() + " but the previous data ends at " + at
                    + " (gap or overlap)");
            at = e.end();
        }
        if (at != dataBytes) throw bad(path, "tensor data ends at " + at + " but the data buffer has " + dataBytes + " bytes (truncated or padded file)");
    }

    private static IOException bad(Path path, String why) {
        return new IOException(path + ": invalid safetensors file: " + why);
    }

    /** A float32 tensor to write. */
    public record F32Tensor(int[] shape, float[] data) {
        public F32Tensor {
            long n = 1;
            for (int s : shape) n *= s;
            if (n != data.length) throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs " + n + " values, got " + data.length);
        }
    }

    /** Writes {@code tensors} (F32) and {@code metadata} to {@code path} atomically: a crash never leaves a partial file. */
    public static void write(Path path, Map<String, F32Tensor> tensors, Map<String, String> metadata) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) header.put("__metadata__", new TreeMap<>(metadata));
        long at = 0;
        List<String> names = new ArrayList<>(new TreeMap<>(tensors).keySet());
        for (String name : names) {
            F32Tensor t = tensors.get(name);
            long bytes = 4L * t.data().length;
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("dtype", "F32");
            e.put("shape", t.shape());
            e.put("data_offsets", new long[]{at, at + bytes});
            header.put(name, e);
            at += bytes;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        Path abs = path.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        Path tmp = Files.createTempFile(abs.getParent(), "." + abs.getFileName(), ".tmp");
        try {
            try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
                java.nio.ByteBuffer len = java.nio.ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
                out.write(len.array());
                out.write(json);
                for (int i = json.length; i < padded; i++) out.write(' ');
                java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
                for (String name : names) {
                    for (float v : tensors.get(name).data()) {
                        if (!buf.hasRemaining()) {
                            out.write(buf.array(), 0, buf.position());
                            buf.clear();
                        }
                        buf.putFloat(v);
                    }
                }
                out.write(buf.array(), 0, buf.position());
            }
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
