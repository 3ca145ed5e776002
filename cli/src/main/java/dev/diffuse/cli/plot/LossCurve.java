package dev.diffuse.cli.plot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;

/** A training-loss plot (log-scale loss against step) written as PNG with XChart, atomically. */
public final class LossCurve {
    private LossCurve() {}

    public static void write(Path png, int[] steps, double[] losses) throws IOException {
        write(png, steps, losses, "DDPM training loss");
    }

    public static void write(Path png, int[] steps, double[] losses, String title) throws IOException {
        if (steps.length != losses.length) throw new IllegalArgumentException("loss curve: " + steps.length + " steps but " + losses.length + " losses");
        int n = 0;
        for (double l : losses) if (Double.isFinite(l) && l > 0) n++;
        if (n == 0) throw new IllegalArgumentException("loss curve: no finite positive loss values to plot");
        double[] xs = new double[n], ys = new double[n];
        for (int i = 0, j = 0; i < steps.length; i++)
            if (Double.isFinite(losses[i]) && losses[i] > 0) {
                xs[j] = steps[i];
                ys[j++] = losses[i];
            }
        XYChart chart = new XYChartBuilder().width(800).height(500).title(title).xAxisTitle("step").yAxisTitle("MSE loss (epsilon)").build();
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setMarkerSize(n > 200 ? 0 : 4);
        chart.addSeries("loss", xs, ys).setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        dev.diffuse.models.io.AtomicFiles.write(png, tmp -> {
            try (var out = Files.newOutputStream(tmp)) {
                BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
            }
        });
    }
}
