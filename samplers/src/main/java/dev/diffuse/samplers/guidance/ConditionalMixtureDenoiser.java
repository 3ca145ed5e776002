package dev.diffuse.samplers.guidance;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;

import dev.diffuse.kernels.Checks;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.gmm.GaussianMixture;

/**
 * The exact conditional denoiser of a labelled {@link GaussianMixture}: row label c gives the prediction of
 * p(x | c) = {@code mixture.conditional(c)} (its components, weights renormalised), the null label that of the whole
 * mixture. Per row the posterior over the allowed components gives
 * <pre>
 *   score = -sum_k r_k U_k z_k,   x0hat = E[x_0 | x_t] = sum_k r_k (mu_k + s U_k (lambda_k * z_k)),  z_k = v_k^-1 U_k^T (x - s mu_k)
 * </pre>
 * and out = a x + b score + c x0hat for the prediction (see gmm_conditional.cl). Computing x0hat directly keeps every
 * parameterisation finite at s = 0 (pure noise: x0hat = the class mean), which the flow samplers need at t = 0.
 * Java rows are computed in double; OpenCL in float. Close to free the device parameters.
 */
public final class ConditionalMixtureDenoiser implements ConditionalDenoiser, AutoCloseable {
    static final String SRC = "dev/diffuse/samplers/gmm_conditional.cl";
    private static final int WG = 64, ROWS = 256;

    private final GaussianMixture mixture;
    private final Device device;
    private final Denoiser.Prediction prediction;
    private final int d, k;
    private final double[][][] u;   // [k][i][j]
    private final double[][] lam, mu;
    private final double[] logw;
    private final int[] compLabels;
    private final Tensor params, compLabelTensor; // OpenCL only

    public ConditionalMixtureDenoiser(GaussianMixture mixture, Device device, Denoiser.Prediction prediction) {
        this.mixture = mixture;
        this.device = device;
        this.prediction = prediction;
        this.d = mixture.dim();
        this.k = mixture.components();
        u = new double[k][][];
        lam = new double[k][];
        mu = new double[k][];
        logw = new double[k];
        compLabels = new int[k];
        int stride = d * d + 2 * d + 1;
        float[] p = new float[k * stride], cl = new float[k];
        for (int c = 0; c < k; c++) {
            u[c] = mixture.eigenvectors(c);
            lam[c] = mixture.eigenvalues(c);
            mu[c] = mixture.mean(c);
            logw[c] = Math.log(mixture.weight(c));
            compLabels[c] = mixture.label(c);
            cl[c] = compLabels[c];
            int o = c * stride;
            for (int j = 0; j < d; j++) for (int i = 0; i < d; i++) p[o + j * d + i] = (float) u[c][i][j];
            for (int j = 0; j < d; j++) p[o + d * d + j] = (float) lam[c][j];
            for (int i = 0; i < d; i++) p[o + d * d + d + i] = (float) mu[c][i];
            p[o + d * d + 2 * d] = (float) logw[c];
        }
        if (device instanceof ClDevice c) {
            params = Tensor.of(c, p, p.length);
            compLabelTensor = Tensor.of(c, cl, k);
        } else {
            params = null;
            compLabelTensor = null;
        }
    }

    public GaussianMixture mixture() { return mixture; }

    public Device device() { return device; }

    @Override public Denoiser.Prediction prediction() { return prediction; }

    /** Throws unless some component carries {@code label} (or it is the null label). */
    public void checkLabel(int label) {
        if (label == NULL_LABEL) return;
        if (label < 0) throw new IllegalArgumentException("label " + label + " is negative; use a class id or NULL_LABEL (" + NULL_LABEL + ")");
        for (int c : compLabels) if (c == label) return;
        throw new IllegalArgumentException("no component of " + mixture + " has label " + label);
    }

    @Override
    public void predict(Tensor out, Tensor x, Tensor labels, Denoiser.NoiseLevel level) {
        int n = rows(x);
        if (labels.numel() != n) throw new IllegalArgumentException("predict: labels must hold one label per row (" + n + "), got " + labels);
        run(out, x, labels, 0, level, prediction);
    }

    /** The denoiser of p(x | label) for every row (label NULL_LABEL: the whole mixture). */
    public Denoiser fixed(int label) {
        checkLabel(label);
        return new Denoiser() {
            @Override public Prediction prediction() { return prediction; }

            @Override public void predict(Tensor out, Tensor x, NoiseLevel level) { run(out, x, null, label, level, prediction); }
        };
    }

    private void run(Tensor out, Tensor x, Tensor labels, int label, Denoiser.NoiseLevel level, Denoiser.Prediction p) {
        int n = rows(x);
        Checks.sameNumel("predict", out, x);
        Checks.sameDevice("predict", out, x, labels);
        if (x.device() != device) throw new IllegalArgumentException("this denoiser lives on " + device.id() + " but x is on " + x.device().id());
        double s = level.scale(), sg = level.sigma();
        if (!(s >= 0) || !(sg >= 0) || (s == 0 && sg == 0))
            throw new IllegalArgumentException("predict: noise level needs scale >= 0, sigma >= 0, not both 0; got " + level);
        double[] abc = switch (p) {
            case SCORE -> new double[]{0, 1, 0};
            case EPSILON -> new double[]{0, -sg, 0};
            case X0 -> new double[]{0, 0, 1};
            case V -> new double[]{0, -s * sg, -sg};
            case VELOCITY -> new double[]{0, sg, 1};
        };
        switch (device) {
            case JavaDevice j -> javaRows(j, out, x, labels, label, n, s, sg, abc);
            case ClDevice c -> c.kernel(SRC, "gmm_conditional_predict", Map.of("D", d)).launch1d(n, WG, out, x,
                    labels != null ? labels : x, compLabelTensor, params, n, k, labels != null ? 1 : 0, label,
                    (float) s, (float) sg, (float) abc[0], (float) abc[1], (float) abc[2]);
        }
    }

    private void javaRows(JavaDevice j, Tensor out, Tensor x, Tensor labels, int label, int n, double s, double sg, double[] abc) {
        MemorySegment xs = x.segment(), os = out.segment(), ls = labels == null ? null : labels.segment();
        ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
        j.parallelFor((n + ROWS - 1) / ROWS, chunk -> {
            double[] row = new double[d], diff = new double[d], z = new double[d], accz = new double[d], accx = new double[d];
            double[] l = new double[k];
            double[][] zs = new double[k][d];
            for (int r = chunk * ROWS; r < Math.min(n, (chunk + 1) * ROWS); r++) {
                int lab = ls == null ? label : (int) Math.rint(ls.getAtIndex(F, r));
                for (int i = 0; i < d; i++) row[i] = xs.getAtIndex(F, (long) r * d + i);
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < k; c++) {
                    l[c] = Double.NEGATIVE_INFINITY;
                    if (lab >= 0 && compLabels[c] != lab) continue;
                    for (int i = 0; i < d; i++) diff[i] = row[i] - s * mu[c][i];
                    double quad = 0, logdet = 0;
                    for (int jj = 0; jj < d; jj++) {
                        double y = 0;
                        for (int i = 0; i < d; i++) y += u[c][i][jj] * diff[i];
                        double v = s * s * lam[c][jj] + sg * sg;
                        zs[c][jj] = y / v;
                        quad += y * y / v;
                        logdet += Math.log(v);
                    }
                    l[c] = logw[c] - 0.5 * (logdet + quad);
                    max = Math.max(max, l[c]);
                }
                java.util.Arrays.fill(accz, 0);
                java.util.Arrays.fill(accx, 0);
                double total = 0;
                for (int c = 0; c < k; c++) {
                    if (l[c] == Double.NEGATIVE_INFINITY) continue;
                    double e = Math.exp(l[c] - max);
                    total += e;
                    for (int i = 0; i < d; i++) {
                        double gz = 0, gx = 0;
                        for (int jj = 0; jj < d; jj++) {
                            gz += u[c][i][jj] * zs[c][jj];
                            gx += u[c][i][jj] * lam[c][jj] * zs[c][jj];
                        }
                        accz[i] += e * gz;
                        accx[i] += e * (mu[c][i] + s * gx);
                    }
                }
                for (int i = 0; i < d; i++)
                    os.setAtIndex(F, (long) r * d + i, (float) (abc[0] * row[i] - abc[1] * accz[i] / total + abc[2] * accx[i] / total));
            }
        });
    }

    private int rows(Tensor x) {
        if (x.rank() < 1 || x.numel() != (long) x.dim(0) * d)
            throw new IllegalArgumentException("predict: x must be (N, " + d + ") for this " + d + "-D mixture, got " + x);
        return x.dim(0);
    }

    @Override
    public void close() {
        if (params != null) params.close();
        if (compLabelTensor != null) compLabelTensor.close();
    }
}
