package dev.diffuse.models.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Fashion-MNIST (Xiao, Rasul and Vollgraf 2017): 28x28 grayscale images of 10 clothing classes, 60000 for training
 * and 10000 for testing, in the four IDX files {@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte},
 * {@code t10k-images-idx3-ubyte}, {@code t10k-labels-idx1-ubyte}, each optionally gzipped ({@code .gz}). Pixels are
 * scaled to [-1, 1]; samples are (1, 28, 28); labels 0..9 are kept.
 */
public final class FashionMnist {
    /** Where {@code apt-get install dataset-fashion-mnist} puts the files. */
    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    public static final List<String> CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    public static final int SIDE = 28;

    public enum Split {
        TRAIN("train"), TEST("t10k");

        final String prefix;

        Split(String prefix) { this.prefix = prefix; }
    }

    private FashionMnist() {}

    /** The split from {@code dir}, or from {@link #DEFAULT_DIR} when {@code dir} is null. */
    public static Dataset load(Path dir, Split split) throws IOException {
        Path d = dir == null ? DEFAULT_DIR : dir;
        Path images = find(d, split.prefix + "-images-idx3-ubyte", split.prefix + "-images.idx3-ubyte");
        Path labels = find(d, split.prefix + "-labels-idx1-ubyte", split.prefix + "-labels.idx1-ubyte");
        Idx.Array im = Idx.read(images, 3), lb = Idx.read(labels, 1);
        if (im.dims()[1] != SIDE || im.dims()[2] != SIDE)
            throw new IOException(images + ": images are " + im.dims()[1] + "x" + im.dims()[2] + ", expected 28x28 for Fashion-MNIST");
        if (im.dims()[0] != lb.dims()[0])
            throw new IOException(images + " holds " + im.dims()[0] + " images but " + labels + " holds " + lb.dims()[0]
                    + " labels; the files must be from the same split");
        for (int i = 0; i < lb.data().length; i++)
            if ((lb.data()[i] & 0xFF) >= CLASS_NAMES.size())
                throw new IOException(labels + ": label " + (lb.data()[i] & 0xFF) + " at index " + i + " is not a class 0..9");
        int n = im.dims()[0];
        String name = "fashion-mnist:" + split.name().toLowerCase(java.util.Locale.ROOT);
        return new ByteImages(name + " (" + n + " x 1x28x28 from " + d + ")", im.data(), lb.data(), n, 1, SIDE, SIDE, CLASS_NAMES);
    }

    /** The first existing of {@code names} and their {@code .gz} forms in {@code dir}, or an error on how to get the data. */
    static Path find(Path dir, String... names) throws IOException {
        for (String n : names)
            for (String f : new String[]{n + ".gz", n}) {
                Path p = dir.resolve(f);
                if (Files.isRegularFile(p)) return p;
            }
        throw new java.io.FileNotFoundException("Fashion-MNIST not found: no " + names[0] + "(.gz) in "
                + dir + (Files.isDirectory(dir) ? " (it holds " + listing(dir) + ")" : " (no such folder)")
                + ". Install it with `apt-get install dataset-fashion-mnist` (files go to " + DEFAULT_DIR
                + ") or pass `--data-dir DIR` naming a folder with train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz), "
                + "t10k-images-idx3-ubyte(.gz) and t10k-labels-idx1-ubyte(.gz)");
    }

    private static String listing(Path dir) {
        try (var s = Files.list(dir)) {
            List<String> names = s.map(p -> p.getFileName().toString()).sorted().limit(8).toList();
            return names.isEmpty() ? "no files" : String.join(", ", names);
        } catch (IOException e) {
            return "unreadable: " + e.getMessage();
        }
    }
}
