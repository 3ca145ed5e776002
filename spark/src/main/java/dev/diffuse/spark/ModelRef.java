package dev.diffuse.spark;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import dev.diffuse.pipeline.ModelFolders;

/**
 * A model folder as the driver resolved it (a run folder becomes its latest checkpoint once, on the driver, so that a
 * checkpoint written while the job runs changes nothing) and the SHA-256 of its files, which every executor checks
 * against what it loads: a node whose copy differs fails its task with both hashes instead of writing other images.
 * The model reaches executors either at the same path (shared storage: NFS, a mounted bucket, an image baked into
 * the node) or shipped with the job ({@link ModelShipping}: each executor fetches it once).
 *
 * @param folder   the resolved folder on the driver (and, unshipped, on every executor)
 * @param sha256   hex SHA-256 over the model's files ({@link #hash})
 * @param shipName the prefix its files were shipped under ({@link ModelShipping}), or null
 */
public record ModelRef(String folder, String sha256, String shipName) implements Serializable {
    /** Files a folder may hold that sampling never reads (optimizer state of a training checkpoint): not hashed or shipped. */
    static final List<String> NOT_MODEL = List.of("training_state.safetensors");

    /** Resolves a model folder (run folder: latest checkpoint) and hashes it. */
    public static ModelRef of(Path model) throws IOException {
        Path dir = ModelFolders.resolve(model).toAbsolutePath().normalize();
        return new ModelRef(dir.toString(), hash(dir), null);
    }

    /** This reference, shipped under {@code name}. */
    public ModelRef shipped(String name) { return new ModelRef(folder, sha256, name); }

    /** Where the model is on this JVM: the shipped copy when it was shipped, else the driver's path. */
    public Path localFolder() { return shipName == null ? Path.of(folder) : ModelShipping.unpack(shipName); }

    /** The files that make the model: regular, not hidden, not optimizer state, sorted by name. */
    static List<Path> modelFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith("."))
                    .filter(p -> !NOT_MODEL.contains(p.getFileName().toString())).sorted().toList();
        }
    }

    /**
     * SHA-256 over the model's files in name order, each as its name, a NUL, its length in decimal, a NUL, its bytes:
     * renaming, moving bytes between files or editing one changes it.
     */
    public static String hash(Path dir) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        List<Path> files = modelFiles(dir);
        if (files.isEmpty()) throw new IllegalArgumentException(dir + " holds no model files");
        byte[] buf = new byte[1 << 16];
        for (Path f : files) {
            md.update((f.getFileName() + "\0" + Files.size(f) + "\0").getBytes(StandardCharsets.UTF_8));
            try (InputStream in = Files.newInputStream(f)) {
                for (int r; (r = in.read(buf)) > 0; ) md.update(buf, 0, r);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Throws, naming both hashes and the way out, unless the model at {@code dir} is this one. */
    void verify(Path dir) {
        String got;
        try {
            got = hash(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("model " + dir + " cannot be read on this executor: " + e.getMessage()
                    + "; put the model on storage every node sees, or ship it with the job (--ship-model)", e);
        }
        if (!got.equals(sha256))
            throw new IllegalStateException("the model at " + dir + " on this executor has SHA-256 " + got + " but the driver's has " + sha256
                    + "; put the same model on every node, or ship it with the job (--ship-model)");
    }
}
