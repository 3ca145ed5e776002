package dev.diffuse.cli;

import java.io.IOException;
import java.nio.file.Path;

import dev.diffuse.models.data.ImageGrid;
import dev.diffuse.models.data.PaddedImages;

/** A VAE's reconstructions beside the originals: per-pixel MSE over the original (unpadded) window, and a two-row grid. */
final class ReconstructionReport {
    private ReconstructionReport() {}

    /** Mean squared difference over the centred {@code inner x inner} window of n images (c, s, s). */
    static double mse(float[] a, float[] b, int n, int c, int s, int inner) {
        float[] x = PaddedImages.crop(a, n, c, s, inner, inner), y = PaddedImages.crop(b, n, c, s, inner, inner);
        double sum = 0;
        for (int i = 0; i < x.length; i++) sum += (double) (x[i] - y[i]) * (x[i] - y[i]);
        return sum / x.length;
    }

    /** A grid of k originals (top row) over their k reconstructions (bottom row), cropped to the original window. */
    static void writeGrid(Path png, float[] originals, float[] recon, int k, int c, int s, int inner) throws IOException {
        int per = c * inner * inner;
        float[] both = new float[2 * k * per];
        System.arraycopy(PaddedImages.crop(originals, k, c, s, inner, inner), 0, both, 0, k * per);
        System.arraycopy(PaddedImages.crop(recon, k, c, s, inner, inner), 0, both, k * per, k * per);
        ImageGrid.write(png, both, 2 * k, c, inner, inner, k);
    }
}
