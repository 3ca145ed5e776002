package dev.diffuse.samplers.gmm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;

import dev.diffuse.kernels.Checks;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.samplers.Denoiser;

/**
 * The exact denoiser of a {@link GaussianMixture}: its noised score is known in closed form at every level
 * (see the mixture's Javadoc), so every parameterisation is exact. With x_t = s x_0 + sigma eps:
 * <pre>
 *   SCORE     grad log p_t(x)
 *   EPSILON   E[eps | x_t]  = -sigma * score
 *   X0        E[x_0 | x_t]  = (x + sigma^2 score) / s                  (Tweedie)
 *   V         s eps - sigma x0 = -(sigma/s) x - (s sigma + sigma^3/s) score   (diffusers v-prediction, VP)
 *   VELOCITY  x0 - eps      = x/s + (sigma + sigma^2/s) score          (flow matching x_t = t x0 + (1-t) eps: dx_t/dt)
 * </pre>
 * Each is out = a x + b score, one kernel. The OpenCL path computes in float with the mixture parameters uploaded
 * once at construction ({@code gmm.cl}); the Java path computes each row in double from the host mixture, rows split
 * over threads. Close the denoiser to free its device buffer.
 */
public final class GaussianMixtureDenoiser implements dev.diffuse.samplers.DifferentiableDenoiser, AutoCloseable {
    static final String SRC = "dev/diffuse/samplers/gmm.cl";
    private static final int WG = 64;
    private static final int ROWS_PER_CHUNK = 256;

    private final GaussianMixture mixture;
    private final Device device;
    private final Prediction prediction;
    private final Tensor params; // OpenCL only

    public GaussianMixtureDenoiser(GaussianMixture mixture, Device device, Prediction prediction) {
        this.mixture = mixture;
        this.device = device;
        this.prediction = prediction;
        this.params = switch (device) {
            case JavaDevice j -> null;
            case ClDevice c -> {
                float[] p = mixture.deviceParameters();
                yield Tensor.of(c, p, p.length);
            }
        };
    }

    public GaussianMixture mixture() { return mixture; }

    public Device device() { return device; }

    @Override public Prediction prediction() { return prediction; }

    @Override
    public void predict(Tensor out, Tensor x, NoiseLevel level) { predict(out, x, level, prediction); }

    /** {@link #predict(Tensor, Tensor, NoiseLevel)} in another parameterisation. */
    public void predict(Tensor out, Tensor x, NoiseLevel level, Prediction p) {
        double s = level.scale(), sg = level.sigma();
        if (!(s >= 0) || !(sg >= 0) || (s == 0 && sg == 0))
            throw new IllegalArgumentException("predict: noise level needs scale >= 0, sigma >= 0, not both 0; got " + level);
        if (s == 0 && p != Prediction.SCORE && p != Prediction.EPSILON)
            throw new IllegalArgumentException("predict: " + p + " divides by scale, which is 0 at " + level
                    + "; use SCORE or EPSILON at pure noise");
        double[] ab = coefficients(p, s, sg);
        affineScore(out, x, s, sg, ab[0], ab[1]);
    }

    /** Every prediction is a x + b score(x): returns {a, b} (table in the class Javadoc). */
    private static double[] coefficients(Prediction p, double s, double sg) {
        return switch (p) {
            case SCORE -> new double[]{0, 1};
            case EPSILON -> new double[]{0, -sg};
            case X0 -> new double[]{1 / s, sg * sg / s};
            case V -> new double[]{-sg / s, -(s * sg + sg * sg * sg / s)};
            case VELOCITY -> new double[]{1 / s, sg + sg * sg / s};
        };
    }

    /**
     * out = J^T v for the prediction a x + b score(x): J = a I + b H with H the Hessian of log p_t, symmetric, so
     * out = a v + b H v (see {@link GaussianMixture#hessianVectorProduct}).
     */
    @Override
    public void vjp(Tensor out, Tensor x, NoiseLevel level, Tensor v) {
        double s = level.scale(), sg = level.sigma();
        if (s == 0 && prediction != Prediction.SCORE && prediction != Prediction.EPSILON)
            throw new IllegalArgumentException("vjp: " + prediction + " divides by scale, which is 0 at " + level);
        double[] ab = coefficients(prediction, s, sg);
        int n = rows("vjp", x);
        Checks.sameDevice("vjp", x, out, v);
        Checks.sameNumel("vjp", x, out, v);
        int d = mixture.dim();
        switch (device(x)) {
            case JavaDevice j -> {
                MemorySegment xs = x.segment(), vs = v.segment(), os = out.segment();
                forRows(j, n, (r, row) -> {
                    double[] vr = new double[d], hv = new double[d];
                    for (int i = 0; i < d; i++) vr[i] = vs.getAtIndex(ValueLayout.JAVA_FLOAT, (long) r * d + i);
                    mixture.hessianVectorProduct(hv, row, vr, s, sg);
                    for (int i = 0; i < d; i++)
                        os.setAtIndex(ValueLayout.JAVA_FLOAT, (long) r * d + i, (float) (ab[0] * vr[i] + ab[1] * hv[i]));
                }, xs);
            }
            case ClDevice c -> kernel(c, "gmm_vjp").launch1d(n, WG, out, x, v, params, n, mixture.components(),
                    (float) s, (float) sg, (float) ab[0], (float) ab[1]);
        }
    }


    /** out (N, d) = grad log p_t(x) at (s, sigma). */
    public void score(Tensor out, Tensor x, double s, double sigma) { affineScore(out, x, s, sigma, 0, 1); }

    /** out (N) = log p_t(x) per row at (s, sigma); (1, 0) is the clean mixture. */
    public void logDensity(Tensor out, Tensor x, double s, double sigma) {
        int n = rows("logDensity", x);
        Checks.sameDevice("logDensity", x, out);
        if (out.numel() != n) throw new IllegalArgumentException("logDensity: out must hold one value per row (" + n + "), got " + out);
        switch (device(x)) {
            case JavaDevice j -> {
                MemorySegment xs = x.segment(), os = out.segment();
                forRows(j, n, (r, row) -> os.setAtIndex(ValueLayout.JAVA_FLOAT, r, (float) mixture.logDensity(row, s, sigma)), xs);
            }
            case ClDevice c -> kernel(c, "gmm_log_density").launch1d(n, WG, out, x, params, n, mixture.components(),
                    (float) s, (float) sigma);
        }
    }

    /** out = a x + b score(x). */
    private void affineScore(Tensor out, Tensor x, double s, double sigma, double a, double b) {
        int n = rows("predict", x);
        Checks.sameDevice("predict", x, out);
        Checks.sameNumel("predict", x, out);
        int d = mixture.dim();
        switch (device(x)) {
            case JavaDevice j -> {
                MemorySegment xs = x.segment(), os = out.segment();
                forRows(j, n, new RowBody() {
                    final ThreadLocal<double[]> g = ThreadLocal.withInitial(() -> new double[d]);

                    @Override
                    public void row(int r, double[] row) {
                        double[] score = g.get();
                        mixture.scoreInto(score, row, s, sigma);
                        for (int i = 0; i < d; i++)
                            os.setAtIndex(ValueLayout.JAVA_FLOAT, (long) r * d + i, (float) (a * row[i] + b * score[i]));
                    }
                }, xs);
            }
            case ClDevice c -> kernel(c, "gmm_predict").launch1d(n, WG, out, x, params, n, mixture.components(),
                    (float) s, (float) sigma, (float) a, (float) b);
        }
    }

    private interface RowBody {
        void row(int r, double[] row);
    }

    /** Calls body for every row (read as double) in fixed chunks of {@value #ROWS_PER_CHUNK} rows. */
    private void forRows(JavaDevice j, int n, RowBody body, MemorySegment xs) {
        int d = mixture.dim();
        j.parallelFor((n + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK, chunk -> {
            double[] row = new double[d];
            int end = Math.min(n, (chunk + 1) * ROWS_PER_CHUNK);
            for (int r = chunk * ROWS_PER_CHUNK; r < end; r++) {
                for (int i = 0; i < d; i++) row[i] = xs.getAtIndex(ValueLayout.JAVA_FLOAT, (long) r * d + i);
                body.row(r, row);
            }
        });
    }

    private Device device(Tensor x) {
        if (x.device() != device)
            throw new IllegalArgumentException("this denoiser lives on " + device.id() + " but x is on " + x.device().id()
                    + "; build a GaussianMixtureDenoiser for that device");
        return device;
    }

    private int rows(String op, Tensor x) {
        int d = mixture.dim();
        if (x.rank() < 1 || x.numel() != (long) x.dim(0) * d)
            throw new IllegalArgumentException(op + ": x must be (N, " + d + ") for this " + d + "-D mixture, got " + x);
        return x.dim(0);
    }

    private dev.diffuse.runtime.ClKernel kernel(ClDevice c, String name) {
        return c.kernel(SRC, name, Map.of("D", mixture.dim()));
    }

    @Override
    public void close() {
        if (params != null) params.close();
    }
}
