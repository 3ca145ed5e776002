package dev.diffuse.cli;

import dev.diffuse.samplers.gmm.GaussianMixture;
import dev.diffuse.samplers.gmm.SymmetricEigen;

/**
 * The 2-D view of a d-dimensional mixture: the identity for d = 2, else projection P onto the two leading principal
 * axes of the mixture's covariance. A linear image of a Gaussian mixture is a Gaussian mixture with means P mu_k and
 * covariances P Sigma_k P^T, so the plotted density is the exact marginal of the projection.
 */
record Projection(double[][] p, GaussianMixture mixture, double[][] means2, double[][][] inv2, double[] logNorm) {

    static Projection of(GaussianMixture m) {
        int d = m.dim();
        double[][] p;
        if (d == 1) p = new double[][]{{1}, {0}};
        else if (d == 2) p = new double[][]{{1, 0}, {0, 1}};
        else {
            SymmetricEigen e = SymmetricEigen.of(m.covariance());
            int a = 0, b = -1;
            for (int i = 1; i < d; i++) if (e.values()[i] > e.values()[a]) a = i;
            for (int i = 0; i < d; i++) if (i != a && (b < 0 || e.values()[i] > e.values()[b])) b = i;
            p = new double[2][d];
            for (int k = 0; k < d; k++) {
                p[0][k] = e.vectors()[k][a];
                p[1][k] = e.vectors()[k][b];
            }
        }
        int K = m.components();
        double[][] mu2 = new double[K][];
        double[][][] inv = new double[K][][];
        double[] logNorm = new double[K];
        for (int c = 0; c < K; c++) {
            mu2[c] = apply(p, m.mean(c));
            double[][] s = m.covariance(c);
            double[][] c2 = new double[2][2];
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++) {
                    double v = 0;
                    for (int k = 0; k < d; k++) for (int l = 0; l < d; l++) v += p[i][k] * s[k][l] * p[j][l];
                    c2[i][j] = v;
                }
            if (d == 1) c2[1][1] = 1e-6; // a 1-D mixture is drawn on a line
            double det = c2[0][0] * c2[1][1] - c2[0][1] * c2[1][0];
            inv[c] = new double[][]{{c2[1][1] / det, -c2[0][1] / det}, {-c2[1][0] / det, c2[0][0] / det}};
            logNorm[c] = Math.log(m.weight(c)) - Math.log(2 * Math.PI) - 0.5 * Math.log(det);
        }
        return new Projection(p, m, mu2, inv, logNorm);
    }

    private static double[] apply(double[][] p, double[] x) {
        double[] y = new double[2];
        for (int i = 0; i < 2; i++) for (int k = 0; k < x.length; k++) y[i] += p[i][k] * x[k];
        return y;
    }

    float[] project(float[] x) {
        int d = mixture.dim(), n = x.length / d;
        float[] out = new float[2 * n];
        for (int r = 0; r < n; r++)
            for (int i = 0; i < 2; i++) {
                double v = 0;
                for (int k = 0; k < d; k++) v += p[i][k] * x[r * d + k];
                out[2 * r + i] = (float) v;
            }
        return out;
    }

    /** log of the projected mixture's density at (u, v). */
    double logDensity(double u, double v) {
        double max = Double.NEGATIVE_INFINITY;
        double[] lp = new double[means2.length];
        for (int c = 0; c < means2.length; c++) {
            double a = u - means2[c][0], b = v - means2[c][1];
            double q = a * (inv2[c][0][0] * a + inv2[c][0][1] * b) + b * (inv2[c][1][0] * a + inv2[c][1][1] * b);
            lp[c] = logNorm[c] - 0.5 * q;
            max = Math.max(max, lp[c]);
        }
        double s = 0;
        for (double l : lp) s += Math.exp(l - max);
        return max + Math.log(s);
    }
}
