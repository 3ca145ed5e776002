package dev.diffuse.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

import dev.diffuse.cli.plot.ScatterPlot;
import dev.diffuse.pipeline.Images;

/** Writes generated samples as a picture: an image grid for (N, C, H, W), a scatter of the first two coordinates otherwise. */
final class Outputs {
    private Outputs() {}

    static void writeSamples(Path png, float[] x, int[] shape) throws IOException {
        int n = shape[0];
        if (shape.length == 4) {
            new Images(x, n, new int[]{shape[1], shape[2], shape[3]}).writeGrid(png);
            return;
        }
        int d = x.length / n;
        float[] xy = new float[2 * n];
        for (int i = 0; i < n; i++) {
            xy[2 * i] = x[i * d];
            xy[2 * i + 1] = d > 1 ? x[i * d + 1] : 0f;
        }
        double x0 = Double.MAX_VALUE, x1 = -Double.MAX_VALUE, y0 = Double.MAX_VALUE, y1 = -Double.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(xy[2 * i]) || !Float.isFinite(xy[2 * i + 1])) continue;
            x0 = Math.min(x0, xy[2 * i]);
            x1 = Math.max(x1, xy[2 * i]);
            y0 = Math.min(y0, xy[2 * i + 1]);
            y1 = Math.max(y1, xy[2 * i + 1]);
        }
        double m = 0.1 * Math.max(x1 - x0, y1 - y0) + 1e-3;
        ScatterPlot.write(png, xy, null, new double[]{x0 - m, x1 + m, y0 - m, y1 + m},
                String.format(Locale.ROOT, "%d samples%s", n, d > 2 ? " (first two coordinates)" : ""));
    }
}
