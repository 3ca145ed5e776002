package dev.diffuse.models.data;

import static org.junit.jupiter.api.Assertions.*;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;

/** PNG files are checked before decoding: a header that claims more than the file can hold is refused, naming the file. */
class PngImageTest {
    static final Path NAME = Path.of("data/cat/0042.png");

    static byte[] png(int w, int h) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ImageIO.write(new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY), "png", b);
        return b.toByteArray();
    }

    @Test
    void decodesAValidFile() throws IOException {
        BufferedImage im = PngImage.decode(NAME, png(7, 5));
        assertEquals(7, im.getWidth());
        assertEquals(5, im.getHeight());
    }

    @Test
    void aHeaderClaimingMorePixelsThanTheDataCanHoldIsRefusedBeforeDecoding() throws IOException {
        // found by ParserFuzzTest: a 101-byte file whose IHDR says 8000 x 4000 made the decoder allocate 134 MB
        byte[] b = png(8, 8);
        ByteBuffer.wrap(b).putInt(16, 8000).putInt(20, 4000);
        var e = assertThrows(IOException.class, () -> PngImage.decode(NAME, b));
        assertTrue(e.getMessage().startsWith(NAME + ": ") && e.getMessage().contains("cannot hold 8000x4000 pixels"), e.getMessage());
        ByteBuffer.wrap(b).putInt(16, 100_000).putInt(20, 100_000);
        e = assertThrows(IOException.class, () -> PngImage.decode(NAME, b));
        assertTrue(e.getMessage().contains("larger than"), e.getMessage());
    }

    @Test
    void brokenFilesNameTheFileAndTheProblem() throws IOException {
        byte[] good = png(8, 8);
        assertMessage(java.util.Arrays.copyOf(good, 40), "truncated");
        assertMessage("GIF89a not a png".getBytes(), "not a PNG file");
        byte[] chunk = good.clone();
        ByteBuffer.wrap(chunk).putInt(33, Integer.MAX_VALUE);   // the chunk after IHDR claims 2 GB
        assertMessage(chunk, "claims 2,147,483,647 bytes");
        byte[] data = good.clone();
        for (int i = 41; i < data.length - 12; i++) data[i] ^= 0x5A;
        assertMessage(data, "corrupt image data");
    }

    private static void assertMessage(byte[] b, String part) {
        var e = assertThrows(IOException.class, () -> PngImage.decode(NAME, b));
        assertTrue(e.getMessage().startsWith(NAME + ": ") && e.getMessage().contains(part) && !e.getMessage().contains("\n"), e.getMessage());
    }
}
