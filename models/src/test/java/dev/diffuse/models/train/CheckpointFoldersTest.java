package dev.diffuse.models.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoint folders on disk: replacement without a window, recovery after a crash, stale temp files, retention, permissions. */
class CheckpointFoldersTest {
    @TempDir
    Path run;

    /** A complete checkpoint folder holding {@code tag} in its weights file. */
    private Path write(int step, String tag) throws IOException {
        Path f = run.resolve("checkpoint-" + step);
        CheckpointFolders.writeAtomically(f, tmp -> {
            Files.writeString(tmp.resolve(Checkpoints.WEIGHTS), tag);
            Files.writeString(tmp.resolve(Checkpoints.STATE), tag);
        });
        return f;
    }

    private List<String> names() throws IOException {
        try (var s = Files.list(run)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void replacingACheckpointLeavesOnlyTheNewCopy() throws IOException {
        Path f = write(5, "old");
        write(5, "new");
        assertEquals("new", Files.readString(f.resolve(Checkpoints.WEIGHTS)));
        assertEquals(List.of("checkpoint-5"), names(), "no aside copy or temp folder left");
    }

    @Test
    void aReplacementCutShortBetweenItsRenamesIsRecoveredByTheReader() throws IOException {
        // the state after "move old aside" and before "move new in": only the aside copy is complete
        Path f = write(5, "old");
        Files.move(f, CheckpointFolders.aside(f));
        Files.createDirectory(run.resolve(".checkpoint-5.tmp-deadbeef")); // the new copy, half written
        assertEquals(f, CheckpointFolders.latest(run), "the reader renames the aside copy back");
        assertEquals("old", Files.readString(f.resolve(Checkpoints.WEIGHTS)));
        assertEquals(List.of(".checkpoint-5.tmp-deadbeef", "checkpoint-5"), names());
    }

    @Test
    void staleTempFilesOfKilledWritesAreRemovedAtStart() throws IOException {
        write(5, "five");
        Files.createDirectories(run.resolve(".checkpoint-10.tmp-4242/inner"));   // a killed checkpoint write (older naming)
        Files.createDirectory(run.resolve(".checkpoint-5.old"));                  // aside copy whose checkpoint exists
        Files.writeString(run.resolve(".loss.png1234.tmp.png"), "x");            // a killed loss-curve write (older naming)
        Files.createDirectories(run.resolve("samples"));
        Files.writeString(run.resolve("samples/.step-5.png.0badf00d.tmp"), "x");
        Files.writeString(run.resolve("samples/step-5.png"), "keep");
        Files.writeString(run.resolve("notes.txt"), "keep");
        List<Path> removed = CheckpointFolders.cleanStale(run);
        assertEquals(3, removed.size(), removed.toString());
        assertEquals(List.of("checkpoint-5", "notes.txt", "samples"), names());
        try (var s = Files.list(run.resolve("samples"))) {
            assertEquals(List.of(run.resolve("samples/step-5.png")), s.toList());
        }
    }

    @Test
    void pruneKeepsTheNewestAndLeavesLaterOnesAlone() throws IOException {
        for (int s : new int[]{10, 20, 30, 40, 50}) write(s, "s" + s);
        assertEquals(List.of(run.resolve("checkpoint-10"), run.resolve("checkpoint-20")), CheckpointFolders.prune(run, 2, 40).stream().sorted().toList());
        assertEquals(List.of("checkpoint-30", "checkpoint-40", "checkpoint-50"), names(), "50 is beyond the current step: untouched");
        assertEquals(List.of(), CheckpointFolders.prune(run, 0, 50), "0 keeps everything");
        assertThrows(IllegalArgumentException.class, () -> CheckpointFolders.prune(run, -1, 50));
    }

    @Test
    void foldersAndFilesGetTheDefaultPermissions() throws IOException {
        Path f = write(1, "x");
        Path refDir = Files.createDirectory(run.resolve("ref-dir")), refFile = Files.createFile(run.resolve("ref-file"));
        // Files.createTempDirectory would make them 0700: unreadable to another account whatever the umask
        assertEquals(Files.getPosixFilePermissions(refDir), Files.getPosixFilePermissions(f));
        assertEquals(Files.getPosixFilePermissions(refFile), Files.getPosixFilePermissions(f.resolve(Checkpoints.WEIGHTS)));
    }
}
