package dev.diffuse.cli;

import java.nio.file.Files;
import java.nio.file.Path;

import dev.diffuse.models.train.CheckpointFolders;
import dev.diffuse.models.train.Trainer;
import picocli.CommandLine.Option;

/** Options every training command shares (train-vae, distill): where the run lives, resuming, device, seed, cadence. */
final class RunOptions {
    @Option(names = "--out", required = true, description = "run folder (checkpoint-N folders, losses, pictures)") Path out;
    @Option(names = "--resume", description = "continue from the latest checkpoint in --out, with the run's own settings and data") boolean resume;
    @Option(names = "--device", defaultValue = "auto", description = "auto | java | cl | cl:gpu | cl:cpu | cl:P:I (default ${DEFAULT-VALUE})") String device;
    @Option(names = "--seed", defaultValue = "0", description = "key of every random draw (default ${DEFAULT-VALUE})") long seed;
    @Option(names = "--log-every", defaultValue = "25", description = "read the loss back every K steps (default ${DEFAULT-VALUE})") int logEvery;
    @Option(names = "--checkpoint-every", defaultValue = "250", description = "write checkpoint-N every K steps (default ${DEFAULT-VALUE})")
    int checkpointEvery;
    @Option(names = "--keep-last", defaultValue = "3", description = "keep the K newest checkpoints and delete older ones; 0 keeps all "
            + "(default ${DEFAULT-VALUE})") int keepLast;

    /** The checkpoint to resume from (null for a fresh run), after refusing to start a fresh run over old checkpoints. */
    Path resumeFrom() throws java.io.IOException {
        if (logEvery < 1 || checkpointEvery < 1) throw new IllegalArgumentException("--log-every and --checkpoint-every must be >= 1");
        if (keepLast < 0) throw new IllegalArgumentException("--keep-last must be >= 0 (0 keeps every checkpoint), got " + keepLast);
        var stale = CheckpointFolders.cleanStale(out);
        if (!stale.isEmpty()) System.out.println("removed " + stale.size() + " temporary file(s) left by an interrupted run: " + stale);
        Path from = resume ? Trainer.latestCheckpoint(out) : null;
        if (resume && from == null) throw new IllegalArgumentException("--resume: no checkpoint-N folder in " + out);
        if (!resume && Files.isDirectory(out) && Trainer.latestCheckpoint(out) != null)
            throw new IllegalArgumentException(out + " already holds checkpoints: pass --resume to continue, or choose another --out");
        return from;
    }

    /** Deletes checkpoints beyond the {@code --keep-last} newest (up to {@code step}). */
    void prune(int step) throws java.io.IOException { CheckpointFolders.prune(out, keepLast, step); }
}
