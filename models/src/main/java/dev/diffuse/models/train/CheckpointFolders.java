package dev.diffuse.models.train;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.diffuse.models.io.AtomicFiles;

/**
 * The {@code checkpoint-N} folders of a run folder on disk. A checkpoint is assembled under a hidden temporary name
 * ({@code .checkpoint-N.tmp-XXXXXXXX}) and renamed into place only when complete. Replacing an existing
 * {@code checkpoint-N} takes two renames (a folder cannot be renamed over a non-empty one): the old copy is moved aside
 * to {@code .checkpoint-N.old}, the new one moved in, then the old one deleted. A crash between the two renames leaves
 * no {@code checkpoint-N} but a complete {@code .checkpoint-N.old}; every reader that lists checkpoints
 * ({@link #latest}) and every training start ({@link #cleanStale}) renames it back first, so no step ever loses its
 * last complete copy. A killed write leaves only a temporary folder, which {@link #cleanStale} removes.
 */
public final class CheckpointFolders {
    static final Pattern NAME = Pattern.compile("checkpoint-(\\d+)");
    /** A checkpoint being assembled: our temp folders, and the names of older versions (createTempDirectory). */
    private static final Pattern TEMP = Pattern.compile("\\.checkpoint-\\d+\\.tmp-.+");
    /** A copy moved aside during a replacement: {@code .checkpoint-N.old}, or older versions' {@code .old-RANDOM}. */
    private static final Pattern ASIDE = Pattern.compile("\\.(checkpoint-\\d+)\\.old(-.+)?");
    /** Hidden temp files of atomic writes ({@code .loss.png.XXXXXXXX.tmp}, older versions' {@code .loss.png123.tmp.png}). */
    private static final Pattern TEMP_FILE = Pattern.compile("\\..+\\.tmp(\\.png)?");

    private CheckpointFolders() {}

    /**
     * Builds {@code folder} under a hidden temp name next to it with {@code fill}, then renames it into place; an existing
     * {@code folder} is replaced as the class comment describes.
     */
    public static void writeAtomically(Path folder, AtomicFiles.Writer fill) throws IOException {
        Path dest = folder.toAbsolutePath();
        Path parent = dest.getParent();
        Files.createDirectories(parent);
        Path tmp = AtomicFiles.newTempDir(parent, "." + dest.getFileName() + ".tmp-");
        try {
            fill.write(tmp);
            Path aside = aside(dest);
            for (int attempt = 0; ; attempt++) {
                try {
                    if (!Files.exists(dest)) {
                        Files.move(tmp, dest, StandardCopyOption.ATOMIC_MOVE);
                        break;
                    }
                    AtomicFiles.deleteTree(aside); // left by a crash after an earlier replacement's second rename
                    Files.move(dest, aside, StandardCopyOption.ATOMIC_MOVE);
                    Files.move(tmp, dest, StandardCopyOption.ATOMIC_MOVE);
                    AtomicFiles.deleteTree(aside);
                    break;
                } catch (DirectoryNotEmptyException | FileAlreadyExistsException e) {
                    // a reader recovered the aside copy between our two renames: move it aside again
                    if (attempt >= 3) throw e;
                }
            }
        } finally {
            AtomicFiles.deleteTree(tmp);
        }
    }

    /** The name a copy of {@code folder} has while it is being replaced. */
    static Path aside(Path folder) { return folder.resolveSibling("." + folder.getFileName() + ".old"); }

    /**
     * Puts back every checkpoint whose replacement was cut short between its two renames (only an aside copy exists);
     * deletes aside copies whose checkpoint exists. Returns the checkpoints recovered.
     */
    public static List<Path> recover(Path outputDir) throws IOException {
        List<Path> recovered = new ArrayList<>();
        if (!Files.isDirectory(outputDir)) return recovered;
        for (Path p : list(outputDir)) {
            Matcher m = ASIDE.matcher(p.getFileName().toString());
            if (!m.matches() || !Files.isDirectory(p)) continue;
            Path dest = p.resolveSibling(m.group(1));
            if (Files.exists(dest)) AtomicFiles.deleteTree(p);
            else {
                try {
                    Files.move(p, dest, StandardCopyOption.ATOMIC_MOVE);
                    recovered.add(dest);
                } catch (FileAlreadyExistsException | DirectoryNotEmptyException raced) {
                    // a writer put a new copy in place meanwhile: that one wins
                }
            }
        }
        return recovered;
    }

    /**
     * At the start of training in {@code outputDir}: recovers cut-short replacements ({@link #recover}) and deletes what
     * killed writes left (temporary checkpoint folders, hidden temp files here and in {@code samples/}). Returns the
     * paths removed. Call it only when no other process writes to the folder.
     */
    public static List<Path> cleanStale(Path outputDir) throws IOException {
        List<Path> removed = new ArrayList<>();
        if (!Files.isDirectory(outputDir)) return removed;
        recover(outputDir);
        for (Path dir : new Path[]{outputDir, outputDir.resolve("samples")}) {
            if (!Files.isDirectory(dir)) continue;
            for (Path p : list(dir)) {
                String n = p.getFileName().toString();
                boolean tempDir = dir == outputDir && TEMP.matcher(n).matches() && Files.isDirectory(p);
                boolean tempFile = TEMP_FILE.matcher(n).matches() && Files.isRegularFile(p);
                if (tempDir || tempFile) {
                    AtomicFiles.deleteTree(p);
                    removed.add(p);
                }
            }
        }
        return removed;
    }

    /**
     * Keeps the {@code keep} newest complete {@code checkpoint-N} folders with N at most {@code upToStep} and deletes
     * the older ones; the newest is never deleted, and checkpoints beyond {@code upToStep} are left alone.
     * {@code keep = 0} keeps everything. Returns the folders deleted.
     */
    public static List<Path> prune(Path outputDir, int keep, long upToStep) throws IOException {
        if (keep < 0) throw new IllegalArgumentException("--keep-last must be >= 0 (0 keeps every checkpoint), got " + keep);
        List<Path> deleted = new ArrayList<>();
        if (keep == 0 || !Files.isDirectory(outputDir)) return deleted;
        List<Path> all = new ArrayList<>(complete(outputDir).stream().filter(p -> stepOf(p) <= upToStep).toList());
        all.sort(Comparator.comparingLong(CheckpointFolders::stepOf).reversed());
        for (Path p : all.subList(Math.min(keep, all.size()), all.size())) {
            AtomicFiles.deleteTree(p);
            deleted.add(p);
        }
        return deleted;
    }

    /** The complete {@code checkpoint-N} folder with the largest N under {@code outputDir} (after {@link #recover}), or null. */
    public static Path latest(Path outputDir) throws IOException {
        if (!Files.isDirectory(outputDir)) return null;
        recover(outputDir);
        return complete(outputDir).stream().max(Comparator.comparingLong(CheckpointFolders::stepOf)).orElse(null);
    }

    /** Folders named checkpoint-N that hold both the weights and the training state. */
    private static List<Path> complete(Path outputDir) throws IOException {
        return list(outputDir).stream().filter(p -> NAME.matcher(p.getFileName().toString()).matches())
                .filter(p -> Files.isRegularFile(p.resolve(Checkpoints.STATE)) && Files.isRegularFile(p.resolve(Checkpoints.WEIGHTS)))
                .toList();
    }

    /** N of a checkpoint-N folder, -1 for other names. */
    public static long stepOf(Path p) {
        Matcher mt = NAME.matcher(p.getFileName().toString());
        if (!mt.matches()) return -1;
        try {
            return Long.parseLong(mt.group(1));
        } catch (NumberFormatException tooLong) {
            return -1;
        }
    }

    private static List<Path> list(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }
}
