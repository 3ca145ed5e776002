package dev.diffuse.pipeline;

/**
 * Where a request stands: {@code imagesDone} of {@code imagesTotal} finished, and the batch now running (with
 * {@code rowsInBatch} of this request's images) at network evaluation {@code evaluationsDone} of
 * {@code evaluationsPerBatch}.
 * <pre>{@code
 * System.err.printf("%d/%d images, %.0f%%%n", p.imagesDone(), p.imagesTotal(), 100 * p.fraction());
 * }</pre>
 */
public record Progress(long imagesDone, long imagesTotal, int rowsInBatch, int evaluationsDone, int evaluationsPerBatch) {
    /**
     * The finished share of the request, counting the running batch by its evaluations, in [0, 1].
     * <pre>{@code
     * double f = progress.fraction();
     * }</pre>
     */
    public double fraction() {
        double running = evaluationsPerBatch == 0 ? 0 : (double) rowsInBatch * evaluationsDone / evaluationsPerBatch;
        return Math.min(1, (imagesDone + running) / imagesTotal);
    }
}
