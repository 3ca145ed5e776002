package dev.diffuse.cli;

import java.io.BufferedWriter;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The files {@code diffuse sample} writes: names checked before any work (extension, a folder to write into), and
 * sample tables written as the samples arrive (CSV or NumPy .npy) into a temporary file that is renamed into place
 * only when sampling succeeded, so a failed run leaves no half-written file.
 */
final class SampleFiles {
    private SampleFiles() {}

    /**
     * Refuses, before any sampling, a name whose extension is not one of {@code extensions} (lower case, with the
     * dot), that is a folder, or whose folder cannot be created or written.
     */
    static void checkWritable(String flag, Path file, List<String> extensions) {
        String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (extensions.stream().noneMatch(name::endsWith))
            throw new IllegalArgumentException(flag + " " + file + ": writes " + String.join(" or ", extensions)
                    + " only; give a name ending in " + String.join(" or ", extensions));
        if (Files.isDirectory(file)) throw new IllegalArgumentException(flag + " " + file + " is a folder; give a file name");
        Path dir = file.toAbsolutePath().getParent();
        while (dir != null && !Files.exists(dir)) dir = dir.getParent();
        if (dir == null || !Files.isDirectory(dir))
            throw new IllegalArgumentException(flag + " " + file + ": " + dir + " is not a folder, so the file cannot be written there");
        if (!Files.isWritable(dir)) throw new IllegalArgumentException(flag + " " + file + ": the folder " + dir + " is not writable");
    }

    /** A table of samples written row by row into a temporary file; {@link #commit} renames it into place. */
    interface Table extends AutoCloseable {
        /** Appends the first {@code count} samples held in {@code x}. */
        void append(float[] x, int count) throws IOException;

        /** Finishes the file and renames it to its name. */
        void commit() throws IOException;

        /** Deletes the temporary file unless committed. */
        @Override void close() throws IOException;
    }

    /** A .csv (header x0, x1, ...) or .npy (float32, shape (n, ...sample)) table for {@code n} samples of {@code sampleShape}. */
    static Table open(Path file, int n, int[] sampleShape) throws IOException {
        return file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".npy") ? new Npy(file, n, sampleShape) : new Csv(file, sampleShape);
    }

    private abstract static class TempFile implements Table {
        final Path target, tmp;
        private boolean committed;

        TempFile(Path target) throws IOException {
            this.target = target.toAbsolutePath();
            Files.createDirectories(this.target.getParent());
            // createFile (not createTempFile, which makes it 0600): the finished file gets the umask's permissions
            this.tmp = Files.createFile(this.target.resolveSibling("." + this.target.getFileName() + "." + Long.toHexString(System.nanoTime()) + ".tmp"));
        }

        abstract void finish() throws IOException;

        @Override
        public void commit() throws IOException {
            finish();
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            committed = true;
        }

        @Override
        public void close() throws IOException {
            if (!committed) {
                try {
                    finish();
                } finally {
                    Files.deleteIfExists(tmp);
                }
            }
        }
    }

    private static final class Csv extends TempFile {
        private final BufferedWriter w;
        private final int per;
        private boolean finished;

        Csv(Path target, int[] sampleShape) throws IOException {
            super(target);
            this.per = Arrays.stream(sampleShape).reduce(1, Math::multiplyExact);
            this.w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8);
            StringBuilder h = new StringBuilder();
            for (int k = 0; k < per; k++) h.append(k == 0 ? "" : ",").append('x').append(k);
            w.write(h.append('\n').toString());
        }

        @Override
        public void append(float[] x, int count) throws IOException {
            StringBuilder row = new StringBuilder();
            for (int i = 0; i < count; i++) {
                row.setLength(0);
                for (int k = 0; k < per; k++) row.append(k == 0 ? "" : ",").append(x[i * per + k]);
                w.write(row.append('\n').toString());
            }
        }

        @Override
        void finish() throws IOException {
            if (!finished) {
                finished = true;
                w.close();
            }
        }
    }

    /** NumPy format 1.0: magic, version, a little-endian header length, a dict header padded to 64 bytes, then the data. */
    private static final class Npy extends TempFile {
        private final DataOutputStream out;
        private final long expected;
        private final int per;
        private long written;
        private boolean finished;

        Npy(Path target, int n, int[] sampleShape) throws IOException {
            super(target);
            StringBuilder shape = new StringBuilder("(").append(n);
            long per = 1;
            for (int s : sampleShape) {
                shape.append(", ").append(s);
                per *= s;
            }
            if (sampleShape.length == 0) shape.append(',');
            this.expected = n * per;
            this.per = (int) per;
            String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + "), }";
            int total = 10 + dict.length() + 1;
            int pad = (64 - total % 64) % 64;
            String header = dict + " ".repeat(pad) + "\n";
            OutputStream raw = Files.newOutputStream(tmp);
            this.out = new DataOutputStream(new java.io.BufferedOutputStream(raw, 1 << 16));
            out.write(new byte[]{(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
            out.write(header.length() & 255);
            out.write(header.length() >>> 8);
            out.write(header.getBytes(StandardCharsets.US_ASCII));
        }

        @Override
        public void append(float[] x, int count) throws IOException {
            int values = count * per;
            ByteBuffer b = ByteBuffer.allocate(4 * values).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(x, 0, values);
            out.write(b.array());
            written += values;
        }

        @Override
        void finish() throws IOException {
            if (finished) return;
            finished = true;
            out.close();
        }

        @Override
        public void commit() throws IOException {
            if (written != expected)
                throw new IllegalStateException("npy: wrote " + written + " values of " + expected + " announced in the header");
            super.commit();
        }
    }
}
