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
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.diffuse.runtime.MemoryBudget;
import dev.diffuse.runtime.Tensor;

/**
 * The safetensors format (spec §5.1): 8-byte little-endian header length N, N bytes of JSON
 * {@code {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {..}}}, then the packed data buffer.
 * Reading memory-maps the file and validates everything a corrupt or hostile file could get wrong (header size,
 * dtypes, shapes against byte ranges, gaps/overlaps, the buffer ending exactly at the end of the file). F32 is read
 * as is; F16 and BF16 are widened to F32. Writing is atomic ({@link AtomicFiles}) and follows
 * the current writer: tensors sorted by name (all F32), JSON padded with spaces to a multiple of 8.
 */
public final class Safetensors {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER = 100_000_000;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Safetensors() {}

    /** One tensor's entry in the header. */
    public record Entry(String name, String dtype, int[] shape, long begin, long end) {
        public long numel() { return Tensor.numel(shape); }
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
            MemorySegment s = slice(e);
            int n = (int) e.numel();
            float[] out = new float[n];
            switch (e.dtype()) {
                case "F32" -> MemorySegment.copy(s, F32, 0, out, 0, n);
                case "F16" -> { for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(s.getAtIndex(I16, i)); }
                case "BF16" -> { for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat((s.getAtIndex(I16, i) & 0xFFFF) << 16); }
                default -> throw new IllegalArgumentException(path + ": tensor '" + name + "' has dtype " + e.dtype()
                        + "; only F32, F16 and BF16 can be read as float32");
            }
            return out;
        }

        /**
         * Model weights: {@link #readF32} and every value finite. A NaN or infinity is refused, naming the tensor, where
         * it is and how many there are: such weights make every output NaN (a corrupt file, or saved from a diverged run).
         */
        public float[] readWeights(String name) {
            float[] v = readF32(name);
            requireFinite(path + ": tensor '" + name + "' " + Arrays.toString(entry(name).shape()), v,
                    "the file is corrupt or was saved from a diverged training run; use another checkpoint");
            return v;
        }

        /**
         * Input values of any numeric dtype as float32: F32, F16, BF16, F64 and the integer types (PyTorch writes
         * timesteps and class labels as I64). Integers above 2^24 lose precision as float32, as {@code tensor.float()} does.
         */
        public float[] readNumbers(String name) {
            Entry e = entry(name);
            if (Set.of("F32", "F16", "BF16").contains(e.dtype())) return readF32(name);
            MemorySegment s = slice(e);
            int n = (int) e.numel();
            float[] out = new float[n];
            for (int i = 0; i < n; i++) {
                out[i] = switch (e.dtype()) {
                    case "F64" -> (float) s.getAtIndex(F64, i);
                    case "I64" -> (float) s.getAtIndex(I64, i);
                    case "U64" -> { long u = s.getAtIndex(I64, i); yield u >= 0 ? (float) u : (float) ((u >>> 1) * 2.0); }
                    case "I32" -> (float) s.getAtIndex(I32, i);
                    case "U32" -> (float) Integer.toUnsignedLong(s.getAtIndex(I32, i));
                    case "I16" -> s.getAtIndex(I16, i);
                    case "U16" -> s.getAtIndex(I16, i) & 0xFFFF;
                    case "I8" -> s.get(ValueLayout.JAVA_BYTE, i);
                    case "U8", "BOOL" -> s.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
                    default -> throw new IllegalArgumentException(path + ": tensor '" + name + "' has dtype " + e.dtype()
                            + "; give it as F32, F16, BF16, F64 or an integer type");
                };
            }
            return out;
        }

        /** The bytes of {@code e}, after checking that its values fit in one Java array and in the heap. */
        private MemorySegment slice(Entry e) {
            MemoryBudget.requireHostArray(path + ": tensor '" + e.name() + "'", e.numel(), 4, "split it into smaller tensors");
            return data.asSlice(e.begin(), e.end() - e.begin());
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
            return parse(path, ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena), arena);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** A file's bytes already in memory, validated as {@link #open} does ({@code name} is what errors call it). */
    public static File read(Path name, byte[] bytes) throws IOException {
        Arena arena = Arena.ofConfined();
        try {
            MemorySegment all = arena.allocate(Math.max(1, bytes.length)).asSlice(0, bytes.length);
            MemorySegment.copy(MemorySegment.ofArray(bytes), 0, all, 0, bytes.length);
            return parse(name, all, arena);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Validates a whole file: header length, a JSON object header, every entry (known dtype, integral non-negative
     * dimensions and offsets, element and byte counts that do not overflow, byte range = numel x dtype size), the
     * entries tiling the data buffer with no gap or overlap and the buffer ending exactly at the end of the file.
     */
    private static File parse(Path path, MemorySegment all, Arena arena) throws IOException {
        long size = all.byteSize();
        if (size < 8) throw bad(path, "file is " + size + " bytes, shorter than the 8-byte header length");
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
        if (header == null) throw bad(path, "header is JSON null; it must be an object {name: {dtype, shape, data_offsets}, ...}");
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
    }

    private static Entry entry(Path path, String name, Object v) throws IOException {
        if (!(v instanceof Map<?, ?> m)) throw bad(path, "entry '" + name + "' is not an object");
        if (!(m.get("dtype") instanceof String dtype) || !DTYPE_BYTES.containsKey(dtype))
            throw bad(path, "tensor '" + name + "' has unknown dtype " + m.get("dtype") + "; expected one of " + new java.util.TreeSet<>(DTYPE_BYTES.keySet()));
        if (!(m.get("shape") instanceof List<?> sh)) throw bad(path, "tensor '" + name + "' has no shape list");
        if (!(m.get("data_offsets") instanceof List<?> off) || off.size() != 2) throw bad(path, "tensor '" + name + "' needs data_offsets [begin, end]");
        int[] shape = new int[sh.size()];
        for (int i = 0; i < shape.length; i++) {
            long d = integral(sh.get(i));
            if (d < 0 || d > Integer.MAX_VALUE) throw bad(path, "tensor '" + name + "' has an invalid dimension " + sh.get(i)
                    + " (dimensions are integers 0.." + Integer.MAX_VALUE + ")");
            shape[i] = (int) d;
        }
        long begin = integral(off.get(0)), end = integral(off.get(1));
        if (begin < 0 || end < begin)
            throw bad(path, "tensor '" + name + "' has data_offsets " + off + "; they must be integers with 0 <= begin <= end");
        long bytes;
        try {
            bytes = Math.multiplyExact(Tensor.numel(shape), (long) DTYPE_BYTES.get(dtype));
        } catch (ArithmeticException e) {
            throw bad(path, "tensor '" + name + "' " + dtype + Arrays.toString(shape) + " has more than 2^63 bytes");
        }
        if (end - begin != bytes)
            throw bad(path, "tensor '" + name + "' " + dtype + Arrays.toString(shape) + " needs " + bytes
                    + " bytes but its offsets [" + begin + ", " + end + "] span " + (end - begin));
        return new Entry(name, dtype, shape, begin, end);
    }

    /** A JSON integer as a long; -1 (invalid) for fractions, non-numbers and integers beyond a long. */
    private static long integral(Object o) {
        return o instanceof Integer || o instanceof Long ? ((Number) o).longValue() : -1;
    }

    private static void validateLayout(Path path, java.util.Collection<Entry> entries, long dataBytes) throws IOException {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(java.util.Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long at = 0;
        for (Entry e : sorted) {
            if (e.begin() != at) throw bad(path, "tensor '" + e.name() + "' starts at " + e.begin() + " but the previous data ends at " + at
                    + " (gap or overlap)");
            at = e.end();
        }
        if (at != dataBytes) throw bad(path, "tensor data ends at " + at + " but the data buffer has " + dataBytes + " bytes (truncated or padded file)");
    }

    /**
     * Refuses {@code values} holding a NaN or infinity: "WHAT holds K non-finite values (first: NaN at index i); WHY".
     */
    public static void requireFinite(String what, float[] values, String why) {
        int bad = 0, first = -1;
        for (int i = 0; i < values.length; i++)
            if (!Float.isFinite(values[i])) {
                if (bad++ == 0) first = i;
            }
        if (bad > 0)
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "%s holds %,d non-finite value%s (first: %s at index %d); %s",
                    what, bad, bad == 1 ? "" : "s", values[first], first, why));
    }

    private static IOException bad(Path path, String why) {
        return new IOException(path + ": invalid safetensors file: " + why);
    }

    /** A float32 tensor to write. */
    public record F32Tensor(int[] shape, float[] data) {
        public F32Tensor {
            long n = Tensor.numel(shape);
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
        AtomicFiles.write(path, tmp -> {
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
        });
    }
}
