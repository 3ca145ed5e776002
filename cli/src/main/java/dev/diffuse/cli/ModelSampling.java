package dev.diffuse.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

import dev.diffuse.pipeline.DiffusionPipeline;
import dev.diffuse.pipeline.Images;
import dev.diffuse.pipeline.ModelInfo;
import dev.diffuse.pipeline.ObjectiveSamplers;
import dev.diffuse.pipeline.PipelineOptions;
import dev.diffuse.pipeline.Progress;
import dev.diffuse.pipeline.SampleListener;
import dev.diffuse.pipeline.SampleRequest;
import dev.diffuse.pipeline.SampleResult;
import dev.diffuse.pipeline.eval.PixelSlicedW2;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Devices;

/**
 * {@code diffuse sample --model FOLDER}: one request through a {@link DiffusionPipeline}, streamed. Images arrive a
 * batch at a time; --save is appended as they come, the grid keeps the first --grid-max, --reference the first 10,000,
 * so memory does not grow with --n. Progress goes to stderr when the run takes more than one batch. Outputs are
 * written only when every sample is finite (or --allow-nonfinite).
 */
final class ModelSampling {
    /** Samples --reference compares, at most. */
    static final int REFERENCE_MAX = PixelSlicedW2.DEFAULT_MAX;
    /** Points a vector model's scatter shows, at most. */
    static final int SCATTER_MAX = 100_000;

    private final SampleCommand c;

    ModelSampling(SampleCommand c) { this.c = c; }

    int run() throws IOException {
        if (c.betaSchedule != null && !c.betaSchedule.equals("linear"))
            throw new IllegalArgumentException("--beta-schedule applies to gmm models; a trained network keeps the schedule it was trained on");
        if (c.sigmaMax != null) throw new IllegalArgumentException("--sigma-max applies to gmm models; a trained network runs on its own noise levels");
        if (c.batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + c.batch);
        int n = c.n != null ? c.n : 64;
        SampleRequest.Builder b = SampleRequest.builder().n(n).seed(c.seed);
        if (c.sampler != null) b.sampler(c.sampler);
        if (c.steps != null) b.steps(c.steps);
        if (c.classLabel != null) b.classLabel(c.classLabel);
        if (c.guidance != null) b.guidance(c.guidance);
        if (c.eta != null) b.eta(c.eta);
        if (c.noClip) b.clip(false);
        SampleRequest request = b.build();
        Device dev = Devices.select(c.device);
        System.out.println("device:  " + dev.id() + "  " + dev.name());
        PipelineOptions options = PipelineOptions.builder().maxBatch(Math.min(c.batch, n)).build();
        try (DiffusionPipeline p = DiffusionPipeline.load(Path.of(c.model), dev, options)) {
            ModelInfo m = p.info();
            SampleRequest r = p.resolve(request);
            System.out.printf(Locale.ROOT, "model:   %s (%,d parameters, sample shape %s%s, objective %s%s)%n", m.folder(), m.parameters(),
                    Arrays.toString(m.sampleShape()), m.latentShape() == null ? "" : " decoded from latents " + Arrays.toString(m.latentShape()),
                    ObjectiveSamplers.describe(m.objective()),
                    m.numClasses() > 0 ? ", " + (m.numClasses() - (m.nullClass() >= 0 ? 1 : 0)) + " classes" : "");
            System.out.printf(Locale.ROOT, "sampler: %s, %d steps%s%s, n = %,d in batches of %d%n", r.sampler(), r.steps(),
                    r.classLabel() != null ? ", class " + r.classLabel() : "", r.guidance() != null ? ", guidance " + r.guidance() : "", n, m.maxBatch());
            return stream(p, r, m);
        }
    }

    private int stream(DiffusionPipeline p, SampleRequest r, ModelInfo m) throws IOException {
        int n = r.n(), per = Math.toIntExact(Arrays.stream(m.sampleShape()).asLongStream().reduce(1, Math::multiplyExact));
        int keep = Math.max(m.isImageModel() ? Math.min(n, c.gridMax) : Math.min(n, SCATTER_MAX), c.reference != null ? Math.min(n, REFERENCE_MAX) : 0);
        float[] kept = new float[keep * per];
        Progress[] last = new Progress[1];
        ProgressLine line = new ProgressLine(c.err(), n, n > m.maxBatch());
        SampleResult result;
        long t0 = System.nanoTime();
        try (SampleFiles.Table table = c.save != null ? SampleFiles.open(c.save, n, m.sampleShape()) : null) {
            result = p.stream(r, new SampleListener() {
                @Override
                public void onProgress(Progress pr) {
                    last[0] = pr;
                    line.update(pr);
                }

                @Override
                public void onImages(int first, Images chunk) {
                    int take = Math.min(chunk.count(), keep - first);
                    if (take > 0) System.arraycopy(chunk.data(), 0, kept, first * per, take * per);
                    try {
                        if (table != null) table.append(chunk.data(), chunk.count());
                    } catch (IOException e) {
                        throw new UncheckedIOException(c.save + ": " + e.getMessage(), e);
                    }
                }
            });
            line.finish();
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "sampled: %,d in %.3f s (%.1f samples/s, %d batches)%n", n, secs, n / secs, result.batches());
            c.checkFinite(result.nonFiniteImages(), n, m.isImageModel() ? "images" : "samples");
            if (table != null) table.commit();
        }
        int shown = Math.min(n, m.isImageModel() ? c.gridMax : SCATTER_MAX);
        int[] shape = new int[m.sampleShape().length + 1];
        shape[0] = shown;
        System.arraycopy(m.sampleShape(), 0, shape, 1, m.sampleShape().length);
        Outputs.writeSamples(c.out, Arrays.copyOf(kept, shown * per), shape);
        System.out.println("wrote " + c.out + (shown < n ? String.format(Locale.ROOT, " (the first %,d of %,d samples%s)", shown, n,
                c.save != null ? "; " + c.save + " holds all" : "") : ""));
        if (c.save != null) System.out.println("wrote " + c.save);
        if (c.reference != null) reportReference(Arrays.copyOf(kept, Math.min(n, REFERENCE_MAX) * per), Math.min(n, REFERENCE_MAX), per);
        return 0;
    }

    /**
     * SW2 between the generated images and as many reference images, beside the SW2 between as many real training images
     * and the same reference images: the second number is what a perfect model would score at this sample size
     * ({@link PixelSlicedW2}, which the Spark evaluation job computes over a data set with the same bits).
     */
    private void reportReference(float[] x, int n, int per) throws IOException {
        System.out.println(PixelSlicedW2.compute(x, n, per, c.reference, null).describe());
    }

    /** Progress to stderr for runs longer than a batch: at most one line every 2 seconds, and the last one. */
    static final class ProgressLine {
        private final PrintWriter err;
        private final long n, t0 = System.nanoTime();
        private final boolean on;
        private long lastPrint;
        private Progress last;

        ProgressLine(PrintWriter err, long n, boolean on) {
            this.err = err;
            this.n = n;
            this.on = on;
        }

        synchronized void update(Progress p) {
            last = p;
            long now = System.nanoTime();
            if (on && now - lastPrint > 2_000_000_000L) {
                lastPrint = now;
                print(p, now);
            }
        }

        synchronized void finish() {
            if (on && last != null) print(last, System.nanoTime());
        }

        private void print(Progress p, long now) {
            double f = p.fraction(), secs = (now - t0) / 1e9, rate = f * n / Math.max(secs, 1e-9);
            long left = f > 0 ? Math.round(secs * (1 - f) / f) : -1;
            err.printf(Locale.ROOT, "sampling: %,d / %,d images (%.1f%%), %.1f images/s%s%n", Math.round(f * n), n, 100 * f, rate,
                    left >= 0 && f < 1 ? String.format(Locale.ROOT, ", about %dm %02ds left", left / 60, left % 60) : "");
            err.flush();
        }
    }
}
