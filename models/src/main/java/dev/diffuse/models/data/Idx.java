package dev.diffuse.models.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

import dev.diffuse.runtime.MemoryBudget;

/**
 * The IDX format of MNIST-style files: a big-endian 32-bit magic {@code 0x0000TTDD} (TT = 0x08 for unsigned bytes,
 * DD = number of dimensions), DD big-endian 32-bit sizes, then the data in row-major order. Files may be gzipped
 * (detected from the 1f 8b signature, not the name). Only unsigned-byte data is read.
 */
public final class Idx {
    private Idx() {}

    /** Dimensions and data of one file. */
    public record Array(int[] dims, byte[] data) {}

    /** Reads {@code path}, requiring {@code expectedDims} dimensions of unsigned bytes and exactly that much data. */
    public static Array read(Path path, int expectedDims) throws IOException {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(path), 1 << 16)) {
            raw.mark(2);
            int b0 = raw.read(), b1 = raw.read();
            raw.reset();
            boolean gz = b0 == 0x1f && b1 == 0x8b;
            try (DataInputStream in = new DataInputStream(gz ? new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16) : raw)) {
                int magic;
                try {
                    magic = in.readInt();
                } catch (EOFException e) {
                    throw bad(path, "file is shorter than the 4-byte magic number");
                }
                int type = (magic >>> 8) & 0xFF, nd = magic & 0xFF;
                if ((magic >>> 16) != 0 || type != 0x08 || nd != expectedDims)
                    throw bad(path, String.format("magic number 0x%08X; expected 0x%08X (unsigned bytes, %d dimensions)%s",
                            magic, 0x0800 | expectedDims, expectedDims, gz ? "" : " - not an IDX file, or a wrong file"));
                int[] dims = new int[nd];
                long total = 1;
                for (int i = 0; i < nd; i++) {
                    dims[i] = in.readInt();
                    if (dims[i] <= 0) throw bad(path, "dimension " + i + " is " + dims[i]);
                    total *= dims[i];
                    if (total > Integer.MAX_VALUE - 16) throw bad(path, "dimensions " + Arrays.toString(Arrays.copyOf(dims, i + 1)) + " are too large");
                }
                long header = 4 + 4L * nd;
                if (!gz && total > Files.size(path) - header)
                    throw bad(path, "truncated: dimensions " + Arrays.toString(dims) + " need " + total + " data bytes, the file has "
                            + (Files.size(path) - header));
                MemoryBudget.requireHostArray(path + " (" + Arrays.toString(dims) + ")", total, 1, "use a smaller data set");
                byte[] data = new byte[(int) total];
                int got = in.readNBytes(data, 0, data.length);
                if (got != data.length)
                    throw bad(path, "truncated: dimensions " + Arrays.toString(dims) + " need " + total + " data bytes, found " + got);
                if (in.read() != -1) throw bad(path, "has bytes after the " + total + " data bytes of dimensions " + Arrays.toString(dims));
                return new Array(dims, data);
            }
        } catch (java.util.zip.ZipException e) {
            throw bad(path, "corrupt gzip data: " + e.getMessage());
        } catch (EOFException e) {
            throw bad(path, "truncated header");
        }
    }

    private static IOException bad(Path path, String why) {
        return new IOException(path + ": invalid IDX file: " + why);
    }
}
