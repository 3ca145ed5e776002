package dev.diffuse.cli.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.DoubleBinaryOperator;


/**
 * A 2-D scatter of samples over the true density: the log-density as a shaded background with iso-lines
 * (marching squares on a grid), the samples as dots. Plain Java2D: a scatter over contours is not something the
 * chart libraries on Maven Central draw.
 */
public final class ScatterPlot {
    private static final int SIZE = 800, MARGIN = 40, GRID = 240;

    private ScatterPlot() {}

    /**
     * @param xy         samples as (x, y) pairs, length 2n
     * @param logDensity log p(x, y) of the truth, or null for none
     * @param bounds     {xmin, xmax, ymin, ymax}
     * @param title      printed at the top
     */
    public static void write(Path out, float[] xy, DoubleBinaryOperator logDensity, double[] bounds, String title) throws IOException {
        BufferedImage img = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, SIZE, SIZE);
        double x0 = bounds[0], x1 = bounds[1], y0 = bounds[2], y1 = bounds[3];
        int plot = SIZE - 2 * MARGIN;
        if (logDensity != null) drawDensity(g, logDensity, x0, x1, y0, y1, plot);
        g.setColor(new Color(200, 30, 30, 110));
        double r = xy.length / 2 > 20000 ? 1.2 : 2.0;
        for (int i = 0; i + 1 < xy.length; i += 2) {
            double px = MARGIN + (xy[i] - x0) / (x1 - x0) * plot, py = MARGIN + (1 - (xy[i + 1] - y0) / (y1 - y0)) * plot;
            if (Double.isFinite(px) && Double.isFinite(py)) g.fill(new Ellipse2D.Double(px - r, py - r, 2 * r, 2 * r));
        }
        g.setColor(Color.DARK_GRAY);
        g.drawRect(MARGIN, MARGIN, plot, plot);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        g.drawString(title, MARGIN, MARGIN - 12);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.drawString(String.format("x: [%.2f, %.2f]   y: [%.2f, %.2f]", x0, x1, y0, y1), MARGIN, SIZE - 14);
        g.dispose();
        PngFiles.writeAtomically(img, out);
    }

    private static void drawDensity(Graphics2D g, DoubleBinaryOperator logDensity, double x0, double x1, double y0, double y1, int plot) {
        double[][] f = new double[GRID + 1][GRID + 1];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i <= GRID; i++)
            for (int j = 0; j <= GRID; j++) {
                f[i][j] = logDensity.applyAsDouble(x0 + (x1 - x0) * i / GRID, y0 + (y1 - y0) * j / GRID);
                max = Math.max(max, f[i][j]);
            }
        double cell = (double) plot / GRID;
        for (int i = 0; i < GRID; i++)
            for (int j = 0; j < GRID; j++) {
                // shade by density relative to the peak, on a log scale down to e^-12
                double v = Math.max(0, 1 + (f[i][j] - max) / 12);
                int c = (int) (255 - 90 * v);
                g.setColor(new Color(c, c, 255));
                g.fillRect((int) (MARGIN + i * cell), (int) (MARGIN + (GRID - j - 1) * cell), (int) Math.ceil(cell), (int) Math.ceil(cell));
            }
        g.setStroke(new BasicStroke(1f));
        g.setColor(new Color(30, 60, 160));
        for (int level = 1; level <= 6; level++) {
            double iso = max - 1.5 * level;
            for (int i = 0; i < GRID; i++)
                for (int j = 0; j < GRID; j++) contourCell(g, f, i, j, iso, cell, plot);
        }
    }

    /** Marching squares: the iso-line's segments inside grid cell (i, j), corners interpolated linearly. */
    private static void contourCell(Graphics2D g, double[][] f, int i, int j, double iso, double cell, int plot) {
        double a = f[i][j], b = f[i + 1][j], c = f[i + 1][j + 1], d = f[i][j + 1];
        double[] px = new double[4], py = new double[4];
        int n = 0;
        // edges: bottom (a-b), right (b-c), top (d-c), left (a-d), in grid units
        if ((a > iso) != (b > iso)) { px[n] = i + (iso - a) / (b - a); py[n++] = j; }
        if ((b > iso) != (c > iso)) { px[n] = i + 1; py[n++] = j + (iso - b) / (c - b); }
        if ((d > iso) != (c > iso)) { px[n] = i + (iso - d) / (c - d); py[n++] = j + 1; }
        if ((a > iso) != (d > iso)) { px[n] = i; py[n++] = j + (iso - a) / (d - a); }
        for (int k = 0; k + 1 < n; k += 2)
            g.draw(new Line2D.Double(MARGIN + px[k] * cell, MARGIN + plot - py[k] * cell, MARGIN + px[k + 1] * cell, MARGIN + plot - py[k + 1] * cell));
    }
}
