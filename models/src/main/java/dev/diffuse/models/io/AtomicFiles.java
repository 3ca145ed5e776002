package dev.diffuse.models.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writing files so that a crash or a failure never leaves a half-written file under the final name: the content goes
 * to a hidden temporary file in the same folder ({@code .NAME.XXXXXXXX.tmp}), is flushed to disk, and is renamed over
 * the destination in one atomic step. Temporary files and folders are created with the default permissions, so they
 * follow the user's umask like any other file ({@code Files.createTempFile} would make them 0600 and the model
 * unreadable to other accounts).
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Fills a temporary path (a file, or a folder for {@link #newTempDir}). */
    public interface Writer {
        void write(Path tmp) throws IOException;
    }

    /** Writes {@code out} through {@code writer}: temp file next to it, fsync, atomic rename over {@code out}. */
    public static void write(Path out, Writer writer) throws IOException {
        Path abs = out.toAbsolutePath();
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        Path tmp = newTempFile(dir, "." + abs.getFileName(), ".tmp");
        try {
            writer.write(tmp);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** A new empty file {@code dir/PREFIX.RANDOM SUFFIX} with the default (umask) permissions. */
    public static Path newTempFile(Path dir, String prefix, String suffix) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path p = dir.resolve(prefix + "." + randomHex() + suffix);
            try {
                return Files.createFile(p);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 100) throw e;
            }
        }
    }

    /** A new empty folder {@code dir/PREFIX RANDOM} with the default (umask) permissions. */
    public static Path newTempDir(Path dir, String prefix) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path p = dir.resolve(prefix + randomHex());
            try {
                return Files.createDirectory(p);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 100) throw e;
            }
        }
    }

    /** Deletes {@code p} and everything under it (nothing if it does not exist). */
    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        try (var s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }

    private static String randomHex() { return String.format("%08x", ThreadLocalRandom.current().nextInt()); }
}
