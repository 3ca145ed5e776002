package dev.diffuse.models.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.MemoryCacheImageInputStream;

import dev.diffuse.runtime.MemoryBudget;

/**
 * One PNG file read defensively, for data sets of thousands of files of unknown origin. The header (signature, IHDR)
 * is parsed and checked before any pixel is decoded, and every chunk length is checked against the file, so that a
 * corrupt or hostile file (a 100000 x 100000 header, a chunk claiming 2 GB) is refused instead of making the decoder
 * allocate what the file does not hold. Every failure is an IOException naming the file and what was wrong.
 */
final class PngImage {
    /** Largest image accepted (pixels): 8192 x 8192. Training images are far smaller; the cap bounds decoding memory. */
    static final long MAX_PIXELS = 1L << 26;
    /** Largest file read. */
    static final long MAX_FILE_BYTES = 256L << 20;
    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    private static final Set<Integer> BIT_DEPTHS = Set.of(1, 2, 4, 8, 16);

    private PngImage() {}

    /** IHDR: size, bit depth and colour type (0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGB + alpha). */
    record Header(int width, int height, int bitDepth, int colorType) {
        boolean gray() { return colorType == 0 || colorType == 4; }
    }

    /** The header of {@code file}, from its first 33 bytes (nothing else is read). */
    static Header readHeader(Path file) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(33);
        }
        return ihdr(file, head);
    }

    /** The whole file, after checking its size. */
    static byte[] readFile(Path file) throws IOException {
        long size = Files.size(file);
        if (size > MAX_FILE_BYTES)
            throw bad(file, "file is " + MemoryBudget.size(size) + "; PNG images in a data set are read up to " + MemoryBudget.size(MAX_FILE_BYTES));
        return Files.readAllBytes(file);
    }

    /**
     * Checks the whole chunk structure of {@code bytes} (signature, IHDR first, every chunk inside the file, IEND at the
     * end) and returns the header. {@code name} is the file named in errors.
     */
    static Header check(Path name, byte[] bytes) throws IOException {
        Header h = ihdr(name, bytes);
        long at = SIGNATURE.length, idat = 0;
        while (true) {
            if (at + 12 > bytes.length) throw bad(name, "truncated: no IEND chunk before the end of the file at byte " + bytes.length);
            long len = Integer.toUnsignedLong(readInt(bytes, (int) at));
            String type = new String(bytes, (int) at + 4, 4, StandardCharsets.ISO_8859_1);
            if (len > bytes.length - at - 12)
                throw bad(name, String.format(Locale.ROOT, "chunk '%s' at byte %d claims %,d bytes but only %,d remain (truncated or corrupt file)",
                        printable(type), at, len, bytes.length - at - 12));
            at += 12 + len;
            if (type.equals("IDAT")) idat += len;
            if (type.equals("IEND")) break;
        }
        // zlib cannot compress better than about 1032:1, so IDAT data this small cannot hold the declared image: refuse it
        // before the decoder allocates a raster for the header's size (a 100-byte file claiming 8000 x 8000 pixels)
        long raw = (long) h.height() * (1 + ((long) h.width() * CHANNELS[h.colorType()] * h.bitDepth() + 7) / 8);
        if (raw > 1100 * idat + 1024)
            throw bad(name, String.format(Locale.ROOT, "%,d bytes of image data cannot hold %dx%d pixels (at least %,d bytes even at zlib's "
                    + "best compression): truncated or corrupt file", idat, h.width(), h.height(), raw / 1032));
        return h;
    }

    /** Samples per pixel of each colour type. */
    private static final int[] CHANNELS = {1, 0, 3, 1, 2, 0, 4};

    /** Decodes {@code bytes} after {@link #check}: any decoder failure becomes an IOException naming {@code name}. */
    static BufferedImage decode(Path name, byte[] bytes) throws IOException {
        check(name, bytes);
        var readers = ImageIO.getImageReadersByFormatName("png");
        if (!readers.hasNext()) throw new IOException("no PNG reader in this Java runtime");
        ImageReader reader = readers.next();
        try (var in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            reader.setInput(in, true, true);
            BufferedImage im = reader.read(0);
            if (im == null) throw bad(name, "the decoder returned no image");
            return im;
        } catch (IOException | RuntimeException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(name + ": ")) throw e;
            throw bad(name, "corrupt image data (" + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName())
                    + "); replace or remove the file");
        } finally {
            reader.dispose();
        }
    }

    private static Header ihdr(Path name, byte[] b) throws IOException {
        if (b.length < SIGNATURE.length || !java.util.Arrays.equals(b, 0, SIGNATURE.length, SIGNATURE, 0, SIGNATURE.length))
            throw bad(name, "not a PNG file (the first 8 bytes are not the PNG signature)");
        if (b.length < 33 || readInt(b, 8) != 13 || !new String(b, 12, 4, StandardCharsets.ISO_8859_1).equals("IHDR"))
            throw bad(name, "truncated or corrupt: the file does not start with a 13-byte IHDR chunk");
        int w = readInt(b, 16), h = readInt(b, 20), depth = b[24] & 0xFF, color = b[25] & 0xFF;
        if (w <= 0 || h <= 0) throw bad(name, "invalid size " + Integer.toUnsignedString(w) + "x" + Integer.toUnsignedString(h));
        if ((long) w * h > MAX_PIXELS)
            throw bad(name, w + "x" + h + " pixels is larger than the " + MAX_PIXELS + " pixels (8192x8192) accepted; resize the images");
        boolean valid = BIT_DEPTHS.contains(depth) && switch (color) {
            case 0 -> true;
            case 3 -> depth <= 8;
            case 2, 4, 6 -> depth >= 8;
            default -> false;
        };
        if (!valid) throw bad(name, "invalid bit depth " + depth + " for colour type " + color);
        return new Header(w, h, depth, color);
    }

    private static int readInt(byte[] b, int at) {
        return ((b[at] & 0xFF) << 24) | ((b[at + 1] & 0xFF) << 16) | ((b[at + 2] & 0xFF) << 8) | (b[at + 3] & 0xFF);
    }

    private static String printable(String type) { return type.replaceAll("[^A-Za-z]", "?"); }

    private static IOException bad(Path file, String why) { return new IOException(file + ": " + why); }
}
