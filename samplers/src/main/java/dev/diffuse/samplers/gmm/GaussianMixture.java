package dev.diffuse.samplers.gmm;

import java.util.Arrays;
import java.util.stream.IntStream;

import dev.diffuse.runtime.MemoryBudget;
import dev.diffuse.runtime.Philox;
import dev.diffuse.runtime.Tensor;

/**
 * A Gaussian mixture p(x) = sum_k w_k N(x; mu_k, Sigma_k) in d dimensions (1..{@value #MAX_DIM}), with exact
 * density, score and sampling in double on the host, also for the noised mixture.
 *
 * <p>Each covariance is stored as its eigendecomposition Sigma_k = U_k diag(lambda_k) U_k^T ({@link SymmetricEigen}).
 * Noising x_t = s x_0 + sigma eps maps component k to N(s mu_k, s^2 Sigma_k + sigma^2 I) = N(s mu_k, U_k diag(s^2
 * lambda_k + sigma^2) U_k^T): same eigenvectors, shifted eigenvalues. With y = U_k^T (x - s mu_k) and
 * v_j = s^2 lambda_kj + sigma^2, the log of the k-th term is
 * <pre>  l_k = log w_k - (d log 2 pi + sum_j log v_j + sum_j y_j^2 / v_j) / 2,  log p = logsumexp_k l_k,</pre>
 * the responsibilities are r_k = exp(l_k - log p), and since grad l_k = -U_k (y / v),
 * <pre>  score(x) = grad log p = -sum_k r_k U_k (y / v).</pre>
 * Each component carries a class label (for class-conditional sampling and guidance): {@link #conditional(int)}.
 */
public final class GaussianMixture {
    /** Largest supported dimension. */
    public static final int MAX_DIM = 128;
    /** Philox stream of the uniforms that choose each sample's component: draw i picks the component of row i. */
    public static final long STREAM_COMPONENT = 0;
    /** Philox stream of the standard normals: draw i*d + j is coordinate j of row i (before U_k sqrt(lambda_k)). */
    public static final long STREAM_NORMAL = 1;
    static final double LOG_2PI = Math.log(2 * Math.PI);

    private final int d, k;
    private final double[] w, logw;
    private final double[][] mu, lam;  // (K, d)
    private final double[][][] u;      // (K, d, d): u[k][i][j] = component i of eigenvector j
    private final int[] labels;

    private GaussianMixture(double[] w, double[][] mu, double[][] lam, double[][][] u, int[] labels) {
        this.k = w.length;
        this.d = mu[0].length;
        this.w = w;
        this.logw = Arrays.stream(w).map(Math::log).toArray();
        this.mu = mu;
        this.lam = lam;
        this.u = u;
        this.labels = labels;
    }

    /** A mixture with every component labelled 0. Weights are normalised; covariances must be SPD. */
    public static GaussianMixture of(double[] weights, double[][] means, double[][][] covariances) {
        return of(weights, means, covariances, new int[weights.length]);
    }

    /** A mixture whose component k carries class {@code labels[k]}. */
    public static GaussianMixture of(double[] weights, double[][] means, double[][][] covariances, int[] labels) {
        int k = weights.length;
        if (k == 0) throw new IllegalArgumentException("a mixture needs at least one component, got 0 weights");
        if (means.length != k || covariances.length != k || labels.length != k)
            throw new IllegalArgumentException("component counts disagree: " + k + " weights, " + means.length + " means, "
                    + covariances.length + " covariances, " + labels.length + " labels; give one of each per component");
        int d = means[0].length;
        if (d < 1 || d > MAX_DIM)
            throw new IllegalArgumentException("dimension " + d + " is outside 1.." + MAX_DIM);
        double total = 0;
        for (int c = 0; c < k; c++) {
            if (!(weights[c] > 0) || !Double.isFinite(weights[c]))
                throw new IllegalArgumentException("weight " + c + " is " + weights[c] + "; weights must be finite and > 0 "
                        + "(drop a component instead of giving it weight 0)");
            total += weights[c];
        }
        double[] w = new double[k];
        double[][] mu = new double[k][], lam = new double[k][];
        double[][][] u = new double[k][][];
        for (int c = 0; c < k; c++) {
            w[c] = weights[c] / total;
            if (means[c].length != d)
                throw new IllegalArgumentException("mean " + c + " has " + means[c].length + " entries, expected d = " + d);
            for (double m : means[c])
                if (!Double.isFinite(m)) throw new IllegalArgumentException("mean " + c + " has a non-finite entry: " + Arrays.toString(means[c]));
            mu[c] = means[c].clone();
            double[][] cov = covariances[c];
            checkSymmetric(c, cov, d);
            SymmetricEigen e = SymmetricEigen.of(cov);
            double max = Arrays.stream(e.values()).map(Math::abs).max().orElse(0);
            for (double l : e.values())
                if (!(l > 1e-12 * max) || max == 0)
                    throw new IllegalArgumentException("covariance " + c + " is not positive definite: eigenvalues "
                            + Arrays.toString(e.values()) + "; every eigenvalue must be > 0 (add a small multiple of I)");
            lam[c] = e.values();
            u[c] = e.vectors();
        }
        return new GaussianMixture(w, mu, lam, u, labels.clone());
    }

    /** Components N(means[k], stds[k]^2 I). */
    public static GaussianMixture isotropic(double[] weights, double[][] means, double[] stds, int[] labels) {
        double[][][] cov = new double[means.length][][];
        for (int c = 0; c < means.length; c++) {
            int d = means[c].length;
            cov[c] = new double[d][d];
            for (int i = 0; i < d; i++) cov[c][i][i] = stds[c] * stds[c];
        }
        return of(weights, means, cov, labels);
    }

    private static void checkSymmetric(int c, double[][] cov, int d) {
        if (cov.length != d) throw new IllegalArgumentException("covariance " + c + " has " + cov.length + " rows, expected " + d);
        double max = 0;
        for (int i = 0; i < d; i++) {
            if (cov[i].length != d)
                throw new IllegalArgumentException("covariance " + c + " row " + i + " has " + cov[i].length + " entries, expected " + d);
            for (double x : cov[i]) {
                if (!Double.isFinite(x)) throw new IllegalArgumentException("covariance " + c + " has a non-finite entry");
                max = Math.max(max, Math.abs(x));
            }
        }
        for (int i = 0; i < d; i++)
            for (int j = 0; j < i; j++)
                if (Math.abs(cov[i][j] - cov[j][i]) > 1e-9 * max)
                    throw new IllegalArgumentException("covariance " + c + " is not symmetric: [" + i + "][" + j + "] = "
                            + cov[i][j] + " but [" + j + "][" + i + "] = " + cov[j][i]);
    }

    // ------------------------------------------------------------------ accessors

    public int dim() { return d; }

    public int components() { return k; }

    /** Normalised weight of component c. */
    public double weight(int c) { return w[c]; }

    public double[] weights() { return w.clone(); }

    public double[] mean(int c) { return mu[c].clone(); }

    public int label(int c) { return labels[c]; }

    /** Eigenvalues lambda_c of Sigma_c. */
    public double[] eigenvalues(int c) { return lam[c].clone(); }

    /** U_c as rows: [i][j] is component i of eigenvector j. */
    public double[][] eigenvectors(int c) { return Arrays.stream(u[c]).map(double[]::clone).toArray(double[][]::new); }

    /** Sigma_c = U_c diag(lambda_c) U_c^T. */
    public double[][] covariance(int c) { return new SymmetricEigen(lam[c], u[c]).reconstruct(); }

    /** Mixture mean sum_k w_k mu_k. */
    public double[] mean() {
        double[] m = new double[d];
        for (int c = 0; c < k; c++) for (int i = 0; i < d; i++) m[i] += w[c] * mu[c][i];
        return m;
    }

    /** Mixture covariance sum_k w_k (Sigma_k + mu_k mu_k^T) - m m^T. */
    public double[][] covariance() {
        double[] m = mean();
        double[][] r = new double[d][d];
        for (int c = 0; c < k; c++) {
            double[][] s = covariance(c);
            for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) r[i][j] += w[c] * (s[i][j] + mu[c][i] * mu[c][j]);
        }
        for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) r[i][j] -= m[i] * m[j];
        return r;
    }

    /** The distribution of s x_0 + sigma eps: components N(s mu_k, s^2 Sigma_k + sigma^2 I), same labels. */
    public GaussianMixture noised(double s, double sigma) {
        checkLevel(s, sigma);
        double[][] m = new double[k][d], l = new double[k][d];
        for (int c = 0; c < k; c++)
            for (int i = 0; i < d; i++) {
                m[c][i] = s * mu[c][i];
                l[c][i] = s * s * lam[c][i] + sigma * sigma;
            }
        return new GaussianMixture(w.clone(), m, l, u, labels);
    }

    /** The sub-mixture of the components labelled {@code label}, weights renormalised. */
    public GaussianMixture conditional(int label) {
        int[] idx = IntStream.range(0, k).filter(c -> labels[c] == label).toArray();
        if (idx.length == 0)
            throw new IllegalArgumentException("no component has label " + label + "; labels present: "
                    + Arrays.toString(Arrays.stream(labels).distinct().sorted().toArray()));
        double total = Arrays.stream(idx).mapToDouble(c -> w[c]).sum();
        return new GaussianMixture(Arrays.stream(idx).mapToDouble(c -> w[c] / total).toArray(),
                Arrays.stream(idx).mapToObj(c -> mu[c]).toArray(double[][]::new),
                Arrays.stream(idx).mapToObj(c -> lam[c]).toArray(double[][]::new),
                Arrays.stream(idx).mapToObj(c -> u[c]).toArray(double[][][]::new),
                Arrays.stream(idx).map(c -> labels[c]).toArray());
    }

    /** Distinct labels, ascending. */
    public int[] labels() { return Arrays.stream(labels).distinct().sorted().toArray(); }

    // ------------------------------------------------------------------ density and score

    /**
     * l_c(x) = log w_c + log N(x; s mu_c, s^2 Sigma_c + sigma^2 I); writes z = (y / v) into {@code z} if not null,
     * so that grad l_c = -U_c z.
     */
    private double logTerm(int c, double[] x, double s, double sigma, double[] z) {
        double[][] uc = u[c];
        double[] diff = new double[d];
        for (int i = 0; i < d; i++) diff[i] = x[i] - s * mu[c][i];
        double quad = 0, logdet = 0, s2 = s * s, sig2 = sigma * sigma;
        for (int j = 0; j < d; j++) {
            double y = 0;
            for (int i = 0; i < d; i++) y += uc[i][j] * diff[i];
            double v = s2 * lam[c][j] + sig2;
            quad += y * y / v;
            logdet += Math.log(v);
            if (z != null) z[j] = y / v;
        }
        return logw[c] - 0.5 * (d * LOG_2PI + logdet + quad);
    }

    private void checkDim(double[] x) {
        if (x.length != d) throw new IllegalArgumentException("point has " + x.length + " coordinates, the mixture has d = " + d);
    }

    private static void checkLevel(double s, double sigma) {
        if (!(s >= 0) || !(sigma >= 0) || !(s > 0 || sigma > 0) || !Double.isFinite(s) || !Double.isFinite(sigma))
            throw new IllegalArgumentException("noise level needs finite s >= 0 and sigma >= 0, not both 0; got s = " + s + ", sigma = " + sigma);
    }

    /** log p(x) of the clean mixture. */
    public double logDensity(double[] x) { return logDensity(x, 1, 0); }

    public double density(double[] x) { return Math.exp(logDensity(x)); }

    /** grad log p(x) of the clean mixture. */
    public double[] score(double[] x) { return score(x, 1, 0); }

    /** grad p(x) = p(x) grad log p(x). */
    public double[] densityGradient(double[] x) {
        double p = density(x);
        double[] g = score(x);
        for (int i = 0; i < d; i++) g[i] *= p;
        return g;
    }

    /** log p_t(x) for x_t = s x_0 + sigma eps. */
    public double logDensity(double[] x, double s, double sigma) {
        checkDim(x);
        checkLevel(s, sigma);
        double[] l = new double[k];
        for (int c = 0; c < k; c++) l[c] = logTerm(c, x, s, sigma, null);
        return logSumExp(l);
    }

    /** Posterior responsibilities r_c = P(component c | x_t = x). */
    public double[] responsibilities(double[] x, double s, double sigma) {
        checkDim(x);
        checkLevel(s, sigma);
        double[] l = new double[k];
        for (int c = 0; c < k; c++) l[c] = logTerm(c, x, s, sigma, null);
        double lse = logSumExp(l);
        for (int c = 0; c < k; c++) l[c] = Math.exp(l[c] - lse);
        return l;
    }

    /** grad_x log p_t(x) = -sum_c r_c U_c (y_c / v_c). */
    public double[] score(double[] x, double s, double sigma) {
        double[] out = new double[d];
        scoreInto(out, x, s, sigma);
        return out;
    }

    /** {@link #score(double[], double, double)} into {@code out}; returns log p_t(x). */
    public double scoreInto(double[] out, double[] x, double s, double sigma) {
        checkDim(x);
        checkLevel(s, sigma);
        double[] l = new double[k];
        double[][] z = new double[k][d];
        for (int c = 0; c < k; c++) l[c] = logTerm(c, x, s, sigma, z[c]);
        double lse = logSumExp(l);
        Arrays.fill(out, 0);
        for (int c = 0; c < k; c++) {
            double r = Math.exp(l[c] - lse);
            for (int i = 0; i < d; i++) {
                double g = 0;
                for (int j = 0; j < d; j++) g += u[c][i][j] * z[c][j];
                out[i] -= r * g;
            }
        }
        return lse;
    }

    /**
     * The Hessian of log p_t applied to v: with g_c = grad l_c = -P_c (x - s mu_c), P_c = U_c diag(1/v_c) U_c^T and
     * responsibilities r_c, log p_t = logsumexp_c l_c gives
     * <pre>  H = sum_c r_c (g_c g_c^T - P_c) - score score^T,   so  H v = sum_c r_c (g_c (g_c . v) - P_c v) - score (score . v)</pre>
     * H is symmetric, so this is also the vector-Jacobian product of the score. Writes H v into {@code out}.
     */
    public void hessianVectorProduct(double[] out, double[] x, double[] v, double s, double sigma) {
        checkDim(x);
        checkDim(v);
        checkLevel(s, sigma);
        double[] l = new double[k];
        double[][] z = new double[k][d];
        for (int c = 0; c < k; c++) l[c] = logTerm(c, x, s, sigma, z[c]);
        double lse = logSumExp(l);
        double[] score = new double[d], g = new double[d], pv = new double[d];
        Arrays.fill(out, 0);
        double s2 = s * s, sig2 = sigma * sigma;
        for (int c = 0; c < k; c++) {
            double r = Math.exp(l[c] - lse);
            double gv = 0;
            for (int i = 0; i < d; i++) {
                double gi = 0;
                for (int j = 0; j < d; j++) gi -= u[c][i][j] * z[c][j];
                g[i] = gi;
                gv += gi * v[i];
            }
            // P_c v = U_c ((U_c^T v) / v_c)
            Arrays.fill(pv, 0);
            for (int j = 0; j < d; j++) {
                double t = 0;
                for (int i = 0; i < d; i++) t += u[c][i][j] * v[i];
                t /= s2 * lam[c][j] + sig2;
                for (int i = 0; i < d; i++) pv[i] += u[c][i][j] * t;
            }
            for (int i = 0; i < d; i++) {
                out[i] += r * (g[i] * gv - pv[i]);
                score[i] += r * g[i];
            }
        }
        double sv = 0;
        for (int i = 0; i < d; i++) sv += score[i] * v[i];
        for (int i = 0; i < d; i++) out[i] -= score[i] * sv;
    }

    static double logSumExp(double[] l) {
        double m = Double.NEGATIVE_INFINITY;
        for (double v : l) m = Math.max(m, v);
        if (m == Double.NEGATIVE_INFINITY) return m;
        double s = 0;
        for (double v : l) s += Math.exp(v - m);
        return m + Math.log(s);
    }

    // ------------------------------------------------------------------ sampling

    /**
     * n exact samples, row-major (n, d). Row i takes component c with P = w_c using uniform draw i of stream
     * {@link #STREAM_COMPONENT}, then x = mu_c + U_c (sqrt(lambda_c) * z) with z = normal draws i*d .. i*d+d-1 of
     * stream {@link #STREAM_NORMAL} (both under {@code seed}). Rows are independent of n: sample(n) is a prefix of
     * sample(n + m).
     */
    public float[] sample(int n, long seed) { return sample(n, seed, 0); }

    /** Rows {@code firstRow .. firstRow+n-1} of the seeded sample sequence (for chunked generation). */
    public float[] sample(int n, long seed, long firstRow) {
        if (n < 0) throw new IllegalArgumentException("mixture sample: n must be >= 0, got " + n);
        // the rows and their component indices, checked before allocating (a huge --n is refused, not an OutOfMemoryError)
        MemoryBudget.requireHostArray(String.format(java.util.Locale.ROOT, "sampling %,d points of the %d-D mixture", n, d), (long) n * (d + 1), 4,
                "lower --n");
        float[] out = new float[n * d];
        int[] comp = sampleComponents(n, seed, firstRow);
        IntStream.range(0, n).parallel().forEach(r -> {
            float[] z = new float[d];
            Philox.normals(seed, STREAM_NORMAL, (firstRow + r) * d, z, 0, d);
            int c = comp[r];
            for (int i = 0; i < d; i++) {
                double x = mu[c][i];
                for (int j = 0; j < d; j++) x += u[c][i][j] * Math.sqrt(lam[c][j]) * z[j];
                out[r * d + i] = (float) x;
            }
        });
        return out;
    }

    /** The component each row of {@link #sample(int, long, long)} was drawn from. */
    public int[] sampleComponents(int n, long seed, long firstRow) {
        double[] cum = new double[k];
        double acc = 0;
        for (int c = 0; c < k; c++) cum[c] = acc += w[c];
        int[] comp = new int[n];
        for (int r = 0; r < n; r++) {
            double uu = Philox.uniform(seed, STREAM_COMPONENT, firstRow + r);
            int c = 0;
            while (c < k - 1 && uu >= cum[c]) c++;
            comp[r] = c;
        }
        return comp;
    }

    /** Fills {@code out} (n, d) with {@link #sample(int, long)} (computed on the host, then one upload). */
    public void sample(Tensor out, long seed) {
        if (out.rank() < 1 || out.numel() != (long) out.dim(0) * d)
            throw new IllegalArgumentException("sample: out must hold (n, " + d + ") values, got " + out);
        out.upload(sample(out.dim(0), seed));
    }

    /**
     * Parameters for the device kernels, per component c at stride d*d + 2d + 1: U_c^T row-major (eigenvector j is
     * row j), lambda_c, mu_c, log w_c. Float.
     */
    float[] deviceParameters() {
        int stride = d * d + 2 * d + 1;
        float[] p = new float[k * stride];
        for (int c = 0; c < k; c++) {
            int o = c * stride;
            for (int j = 0; j < d; j++) for (int i = 0; i < d; i++) p[o + j * d + i] = (float) u[c][i][j];
            for (int j = 0; j < d; j++) p[o + d * d + j] = (float) lam[c][j];
            for (int i = 0; i < d; i++) p[o + d * d + d + i] = (float) mu[c][i];
            p[o + d * d + 2 * d] = (float) logw[c];
        }
        return p;
    }

    @Override
    public String toString() { return "GaussianMixture[d=" + d + ", K=" + k + ", labels=" + Arrays.toString(labels()) + "]"; }
}
