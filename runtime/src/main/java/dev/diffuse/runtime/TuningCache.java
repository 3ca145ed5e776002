package dev.diffuse.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The best kernel parameters found by the tuner ({@code diffuse tune}), per (device name, driver version, op, shape),
 * in one text file next to the program cache ({@link CacheDir#tuningFile()}). One line per entry, tab-separated:
 * <pre>
 *   device  driver  op  shape  params  tuned_ms  default_ms
 *   NVIDIA H100  550.54  conv2d.forward  B=64,Cin=32,H=28,W=28,Cout=32,K=3,S=1,PT=1,PL=1,PB=1,PR=1  KERNEL=1,RM=8,RN=2,VW=16  0.21  0.35
 * </pre>
 * {@code params} are integer {@code -D} values in name order; the two times (milliseconds, on that device, when it
 * was tuned) say what the choice gained. Lines that do not parse are skipped (and dropped on the next write), so a
 * damaged file costs tuning, never a crash. Writes merge with the file as it is on disk and replace it atomically,
 * so two processes tuning different ops both keep their entries.
 */
public final class TuningCache {
    /** One tuned choice. */
    public record Entry(String device, String driver, String op, String shape, Map<String, Integer> params,
                        double tunedMs, double defaultMs) {
        public Entry {
            params = Collections.unmodifiableMap(new TreeMap<>(params));
            for (String s : new String[]{device, driver, op, shape})
                if (s.contains("\t") || s.contains("\n")) throw new IllegalArgumentException("tuning key with a tab or newline: " + s);
        }

        String key() { return device + "\t" + driver + "\t" + op + "\t" + shape; }

        String line() {
            return key() + "\t" + formatParams(params) + "\t" + String.format(java.util.Locale.ROOT, "%.4f\t%.4f", tunedMs, defaultMs);
        }
    }

    private static final String HEADER = "# Diffuse kernel tuning cache (diffuse tune): device\tdriver\top\tshape\tparams\ttuned_ms\tdefault_ms";
    private static volatile TuningCache shared;

    private final Path file;
    private Map<String, Entry> entries;

    public TuningCache(Path file) { this.file = file; }

    /** The cache at {@link CacheDir#tuningFile()} (a new instance when {@code -Ddiffuse.cache.dir} changed). */
    public static TuningCache shared() {
        Path want = CacheDir.tuningFile();
        TuningCache c = shared;
        if (c == null || !c.file.equals(want)) {
            synchronized (TuningCache.class) {
                if (shared == null || !shared.file.equals(want)) shared = new TuningCache(want);
                c = shared;
            }
        }
        return c;
    }

    public Path file() { return file; }

    /** The entry for ({@code device}, {@code op}, {@code shape}), if one was tuned on this device and driver. */
    public synchronized Optional<Entry> get(ClDeviceInfo device, String op, String shape) {
        return Optional.ofNullable(loaded().get(device.name() + "\t" + device.driverVersion() + "\t" + op + "\t" + shape));
    }

    /** Every entry, in file order. */
    public synchronized List<Entry> entries() { return List.copyOf(loaded().values()); }

    /** Adds or replaces {@code e} and writes the file (merged with what is on disk now). */
    public synchronized void put(Entry e) throws IOException {
        Map<String, Entry> merged = read(file);
        merged.put(e.key(), e);
        write(merged);
        entries = merged;
    }

    /** Drops what was read, so the next lookup reads the file again (another process may have tuned). */
    public synchronized void reload() { entries = null; }

    private Map<String, Entry> loaded() {
        if (entries == null) entries = read(file);
        return entries;
    }

    private void write(Map<String, Entry> all) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        for (Entry x : all.values()) sb.append(x.line()).append('\n');
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), file.getFileName().toString(), ".tmp");
        try {
            Files.writeString(tmp, sb, StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException ex) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static Map<String, Entry> read(Path file) {
        Map<String, Entry> out = new LinkedHashMap<>();
        if (!Files.isRegularFile(file)) return out;
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            Debug.log(1, "tuning cache: cannot read " + file + " (" + e + "); launching with default tunings");
            return out;
        }
        for (String line : lines) {
            if (line.isBlank() || line.startsWith("#")) continue;
            Entry e = parse(line);
            if (e == null) Debug.log(1, "tuning cache: skipping a line that does not parse: " + line);
            else out.put(e.key(), e);
        }
        return out;
    }

    static Entry parse(String line) {
        String[] f = line.split("\t", -1);
        if (f.length != 7) return null;
        try {
            return new Entry(f[0], f[1], f[2], f[3], parseParams(f[4]), Double.parseDouble(f[5]), Double.parseDouble(f[6]));
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** {@code A=1,B=2} from a map, names in order. */
    public static String formatParams(Map<String, Integer> params) {
        StringBuilder sb = new StringBuilder();
        for (var e : new TreeMap<>(params).entrySet()) {
            if (!sb.isEmpty()) sb.append(',');
            sb.append(e.getKey()).append('=').append(e.getValue());
        }
        return sb.toString();
    }

    /** Inverse of {@link #formatParams}; throws on anything else. */
    public static Map<String, Integer> parseParams(String s) {
        Map<String, Integer> out = new TreeMap<>();
        if (s.isBlank()) return out;
        for (String kv : s.split(",")) {
            int eq = kv.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("not NAME=value: " + kv);
            out.put(kv.substring(0, eq).strip(), Integer.parseInt(kv.substring(eq + 1).strip()));
        }
        return out;
    }
}
