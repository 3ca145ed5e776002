package dev.diffuse.cli.plot;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

import javax.imageio.ImageIO;

import dev.diffuse.models.io.AtomicFiles;

/** Writes files so that a failure never leaves a half-written file behind: temp file in the same folder, then rename. */
public final class PngFiles {
    private PngFiles() {}

    public static void writeAtomically(BufferedImage img, Path out) throws IOException {
        writeAtomically(out, tmp -> {
            if (!ImageIO.write(img, "png", tmp.toFile())) throw new IOException("no PNG writer available");
        });
    }

    public interface Writer { void write(Path tmp) throws IOException; }

    /** {@link AtomicFiles#write}: temp file in the same folder (umask permissions), fsync, atomic rename. */
    public static void writeAtomically(Path out, Writer writer) throws IOException {
        AtomicFiles.write(out, writer::write);
    }
}
