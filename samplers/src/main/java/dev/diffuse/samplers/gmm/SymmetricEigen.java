package dev.diffuse.samplers.gmm;

/**
 * Eigendecomposition of a real symmetric matrix, A = U diag(lambda) U^T, by the cyclic Jacobi method in double.
 *
 * <p>Each rotation J in the (p, q) plane is chosen so that (J^T A J)_pq = 0: with theta = (a_qq - a_pp) / (2 a_pq),
 * t = tan(phi) is the smaller root of t^2 + 2 t theta - 1 = 0, t = sgn(theta) / (|theta| + sqrt(theta^2 + 1)),
 * c = 1 / sqrt(1 + t^2), s = t c. A rotation leaves the Frobenius norm unchanged and lowers the off-diagonal mass
 * by 2 a_pq^2, so sweeps over all pairs converge (quadratically once the off-diagonal is small). U accumulates the
 * rotations: its columns are orthonormal eigenvectors. Exact to a few ulps of ||A|| for the d <= 128 used here.
 *
 * @param values  eigenvalues lambda_j, in the order of the columns of {@code vectors}
 * @param vectors U as rows: {@code vectors[i][j]} is component i of eigenvector j
 */
public record SymmetricEigen(double[] values, double[][] vectors) {
    private static final int MAX_SWEEPS = 100;

    /** Decomposes {@code a} (square, symmetric: only the symmetric part (a + a^T) / 2 is used). */
    public static SymmetricEigen of(double[][] a) {
        int n = a.length;
        double[][] m = new double[n][n], v = new double[n][n];
        double norm2 = 0;
        for (int i = 0; i < n; i++) {
            if (a[i].length != n)
                throw new IllegalArgumentException("matrix must be square: row " + i + " has " + a[i].length + " entries, expected " + n);
            for (int j = 0; j < n; j++) {
                m[i][j] = 0.5 * (a[i][j] + a[j][i]);
                norm2 += m[i][j] * m[i][j];
            }
            v[i][i] = 1;
        }
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
            double off = 0;
            for (int p = 0; p < n; p++) for (int q = p + 1; q < n; q++) off += m[p][q] * m[p][q];
            if (off <= 1e-32 * norm2 || off == 0) break;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++) {
                    double apq = m[p][q];
                    if (apq == 0) continue;
                    double theta = (m[q][q] - m[p][p]) / (2 * apq);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.sqrt(1 + t * t), s = t * c;
                    for (int k = 0; k < n; k++) { // columns: M J
                        double mkp = m[k][p], mkq = m[k][q];
                        m[k][p] = c * mkp - s * mkq;
                        m[k][q] = s * mkp + c * mkq;
                    }
                    for (int k = 0; k < n; k++) { // rows: J^T (M J)
                        double mpk = m[p][k], mqk = m[q][k];
                        m[p][k] = c * mpk - s * mqk;
                        m[q][k] = s * mpk + c * mqk;
                    }
                    m[p][q] = m[q][p] = 0;
                    for (int k = 0; k < n; k++) {
                        double vkp = v[k][p], vkq = v[k][q];
                        v[k][p] = c * vkp - s * vkq;
                        v[k][q] = s * vkp + c * vkq;
                    }
                }
        }
        double[] values = new double[n];
        for (int i = 0; i < n; i++) values[i] = m[i][i];
        return new SymmetricEigen(values, v);
    }

    /** U diag(values) U^T. */
    public double[][] reconstruct() {
        int n = values.length;
        double[][] r = new double[n][n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int k = 0; k < n; k++) sum += vectors[i][k] * values[k] * vectors[j][k];
                r[i][j] = sum;
            }
        return r;
    }
}
