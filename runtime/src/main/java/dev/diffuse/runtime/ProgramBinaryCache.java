package dev.diffuse.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Compiled OpenCL programs on disk (clGetProgramInfo CL_PROGRAM_BINARIES), so that a second process loads them with
 * clCreateProgramWithBinary instead of compiling from source. Keyed like the in-memory program cache: device name,
 * platform and driver version, the SHA-256 of the (include-expanded) source and the build options with every define.
 *
 * <p>One file per program, {@code <sha256(key)>.clbin} under {@link CacheDir#programs()}:
 * <pre>
 *   DIFFUSE-CL-BINARY 1\n      magic and format version
 *   key\n                      the full key (a hash collision or a renamed file is then a mismatch, not a wrong program)
 *   length\n                   bytes of the binary
 *   sha256\n                   hex SHA-256 of the binary
 *   binary
 * </pre>
 * A file that fails any of these checks (truncated, corrupted, written for another key or format) is deleted and
 * reported as absent, so the caller rebuilds from source; a binary the driver refuses is removed by the caller.
 * Writes go to a temporary file renamed into place, so a reader never sees half an entry and two processes writing
 * the same entry both leave a complete one. Loading an entry marks it used (its modification time); after each store
 * the least recently used entries are deleted while the folder holds more than {@link #MAX_BYTES} (sources that
 * changed leave entries no key will ask for again).
 */
final class ProgramBinaryCache {
    private static final String MAGIC = "DIFFUSE-CL-BINARY 1";
    /** Size the folder is trimmed to after a store: 256 MiB (PoCL binaries are ~200 KB, NVIDIA's smaller). */
    static final long MAX_BYTES = 256L << 20;
    private final Path dir;

    ProgramBinaryCache(Path dir) { this.dir = dir; }

    /** The cache under {@link CacheDir#programs()}, or null when {@code -Ddiffuse.cache=off}. */
    static ProgramBinaryCache fromSystemProperties() {
        return CacheDir.enabled() ? new ProgramBinaryCache(CacheDir.programs()) : null;
    }

    Path dir() { return dir; }

    Path entry(String key) { return dir.resolve(sha256(key.getBytes(StandardCharsets.UTF_8)).substring(0, 40) + ".clbin"); }

    /** The binary stored for {@code key}, or null when there is none or it is damaged or stale (then deleted). */
    byte[] load(String key) {
        Path f = entry(key);
        if (!Files.isRegularFile(f)) return null;
        try {
            byte[] all = Files.readAllBytes(f);
            int[] nl = new int[4];
            int from = 0;
            for (int i = 0; i < 4; i++) {
                nl[i] = indexOf(all, (byte) '\n', from);
                if (nl[i] < 0) return damaged(f, "truncated header");
                from = nl[i] + 1;
            }
            if (!text(all, 0, nl[0]).equals(MAGIC)) return damaged(f, "not a Diffuse program binary");
            if (!text(all, nl[0] + 1, nl[1]).equals(key)) return damaged(f, "written for another program or driver");
            long length = Long.parseLong(text(all, nl[1] + 1, nl[2]));
            if (length != all.length - (nl[3] + 1L)) return damaged(f, "length " + length + " but " + (all.length - nl[3] - 1) + " bytes");
            byte[] bin = Arrays.copyOfRange(all, nl[3] + 1, all.length);
            if (!sha256(bin).equals(text(all, nl[2] + 1, nl[3]))) return damaged(f, "checksum mismatch");
            touch(f);
            return bin;
        } catch (IOException | RuntimeException e) {
            return damaged(f, e.toString());
        }
    }

    /** Stores {@code binary} for {@code key}; an IO failure only costs the next process a compile (logged, not thrown). */
    void store(String key, byte[] binary) {
        if (binary == null || binary.length == 0) return;
        Path f = entry(key);
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, f.getFileName().toString(), ".tmp");
            byte[] header = (MAGIC + "\n" + key + "\n" + binary.length + "\n" + sha256(binary) + "\n").getBytes(StandardCharsets.UTF_8);
            byte[] all = Arrays.copyOf(header, header.length + binary.length);
            System.arraycopy(binary, 0, all, header.length, binary.length);
            Files.write(tmp, all);
            try {
                Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
            }
            trim(MAX_BYTES);
        } catch (IOException | RuntimeException e) {
            Debug.log(1, "program cache: could not write " + f + ": " + e);
            if (tmp != null) try { Files.deleteIfExists(tmp); } catch (IOException ignored) { /* best effort */ }
        }
    }

    /** Deletes the least recently used entries until the folder's entries take at most {@code maxBytes}. */
    void trim(long maxBytes) {
        record Item(Path path, long bytes, long used) {}
        java.util.List<Item> items = new java.util.ArrayList<>();
        try (var files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files.filter(x -> x.toString().endsWith(".clbin"))::iterator) {
                try {
                    items.add(new Item(p, Files.size(p), Files.getLastModifiedTime(p).toMillis()));
                } catch (IOException gone) { /* deleted meanwhile by another process */ }
            }
        } catch (IOException e) {
            return;
        }
        long total = items.stream().mapToLong(Item::bytes).sum();
        items.sort(java.util.Comparator.comparingLong(Item::used));
        for (Item it : items) {
            if (total <= maxBytes) break;
            try {
                Files.deleteIfExists(it.path());
                total -= it.bytes();
            } catch (IOException e) {
                Debug.log(1, "program cache: could not delete " + it.path() + ": " + e);
            }
        }
    }

    private static void touch(Path f) {
        try {
            Files.setLastModifiedTime(f, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis()));
        } catch (IOException e) {
            // read-only cache folder: entries still load, only the eviction order suffers
        }
    }

    /** Deletes the entry for {@code key} (e.g. a binary the driver refused). */
    void remove(String key) {
        try {
            Files.deleteIfExists(entry(key));
        } catch (IOException e) {
            Debug.log(1, "program cache: could not delete " + entry(key) + ": " + e);
        }
    }

    private static byte[] damaged(Path f, String why) {
        Debug.log(1, "program cache: " + f.getFileName() + " is unusable (" + why + "); rebuilding from source");
        try {
            Files.deleteIfExists(f);
        } catch (IOException e) {
            Debug.log(1, "program cache: could not delete " + f + ": " + e);
        }
        return null;
    }

    private static int indexOf(byte[] a, byte b, int from) {
        for (int i = from; i < a.length && i < from + 65536; i++) if (a[i] == b) return i;
        return -1;
    }

    private static String text(byte[] a, int from, int to) { return new String(a, from, to - from, StandardCharsets.UTF_8); }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
