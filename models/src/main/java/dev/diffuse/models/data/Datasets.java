package dev.diffuse.models.data;

import java.io.IOException;
import java.nio.file.Path;

import dev.diffuse.samplers.gmm.MixturePresets;

/**
 * Opens a dataset from a spec string (the CLI's {@code --dataset}):
 * <pre>
 *   fashion-mnist | fashion-mnist:train    the 60000 training images (from dataDir, default /usr/share/datasets/fashion-mnist)
 *   fashion-mnist:test                     the 10000 test images
 *   png:DIR                                a folder of PNGs ({@link PngFolder})
 *   ring8 | aniso2d | gmm16d | ...         exact samples of a mixture preset ({@link Synthetic2d}), 50000 by default
 *   ring8:N                                N samples
 * </pre>
 */
public final class Datasets {
    private Datasets() {}

    public static String help() {
        return "fashion-mnist, fashion-mnist:test, png:DIR, or a mixture preset (" + String.join(", ", MixturePresets.names())
                + ", optionally :N for N samples)";
    }

    /** @param dataDir folder for file-based datasets (fashion-mnist), or null for the default location */
    public static Dataset open(String spec, Path dataDir) throws IOException {
        if (spec == null || spec.isBlank()) throw new IllegalArgumentException("empty dataset spec; use " + help());
        String s = spec.trim();
        int colon = s.indexOf(':');
        String head = colon < 0 ? s : s.substring(0, colon), arg = colon < 0 ? null : s.substring(colon + 1);
        switch (head) {
            case "fashion-mnist", "fashion_mnist", "fashionmnist" -> {
                FashionMnist.Split split;
                if (arg == null || arg.equals("train")) split = FashionMnist.Split.TRAIN;
                else if (arg.equals("test") || arg.equals("t10k")) split = FashionMnist.Split.TEST;
                else throw new IllegalArgumentException("dataset '" + spec + "': fashion-mnist split must be 'train' or 'test', got '" + arg + "'");
                return FashionMnist.load(dataDir, split);
            }
            case "png" -> {
                if (arg == null || arg.isEmpty()) throw new IllegalArgumentException("dataset '" + spec + "': write png:DIR with the image folder");
                return PngFolder.load(Path.of(arg));
            }
            default -> {
                if (MixturePresets.names().contains(head)) {
                    int n = Synthetic2d.DEFAULT_SIZE;
                    if (arg != null) {
                        try {
                            n = Integer.parseInt(arg);
                        } catch (NumberFormatException e) {
                            throw new IllegalArgumentException("dataset '" + spec + "': the sample count after ':' must be an integer, got '" + arg + "'");
                        }
                        if (n < 1) throw new IllegalArgumentException("dataset '" + spec + "': sample count must be >= 1");
                    }
                    return new Synthetic2d(head, n, Synthetic2d.DEFAULT_SEED);
                }
                throw new IllegalArgumentException("unknown dataset '" + spec + "'; use " + help());
            }
        }
    }
}
