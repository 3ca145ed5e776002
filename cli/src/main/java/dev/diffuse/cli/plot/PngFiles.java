package dev.diffuse.cli.plot;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import javax.imageio.ImageIO;

/** Writes files so that a failure never leaves a half-written file behind: temp file in the same folder, then rename. */
public final class PngFiles {
    private PngFiles() {}

    public static void writeAtomically(BufferedImage img, Path out) throws IOException {
        writeAtomically(out, tmp -> {
            if (!ImageIO.write(img, "png", tmp.toFile())) throw new IOException("no PNG writer available");
        });
    }

    public interface Writer { void write(Path tmp) throws IOException; }

    public static void writeAtomically(Path out, Writer writer) throws IOException {
        Path abs = out.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir != null) Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + abs.getFileName(), ".tmp");
        try {
            writer.write(tmp);
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
