// Exact class-conditional predictions of a noised Gaussian mixture, one work-item per row, each row with its own
// class label (so the 2B batch of classifier-free guidance -- B conditional rows, B null rows -- is one launch).
//
// Row label L: the components with label L (L < 0, the null label: all components). Noised by x_t = s x_0 + sigma eps,
// component k is N(s mu_k, U_k diag(v_k) U_k^T), v_kj = s^2 lambda_kj + sigma^2. With y = U_k^T (x - s mu_k), z = y / v:
//   l_k = log w_k - (sum_j log v_kj + y.z) / 2            (the masked weights' normaliser cancels in r_k)
//   r_k = softmax over the row's components of l_k
//   score = -sum_k r_k U_k z_k
//   x0hat = E[x_0 | x_t] = sum_k r_k (mu_k + s U_k (lambda_k * z_k))   (per-component Gaussian posterior mean)
// x0hat is computed directly rather than by Tweedie ((x + sigma^2 score) / s), so it stays finite at s = 0 (where it
// is the class mean) and every parameterisation is out = a x + b score + c x0hat (host a, b, c):
//   SCORE (0,1,0)  EPSILON (0,-sigma,0)  X0 (0,0,1)  V = s eps - sigma x0 (0,-s sigma,-sigma)  VELOCITY = x0 - eps (0,sigma,1)
// Layout: x (N, D); labels (N) float class ids (read only when has_labels, else every row uses `label`);
// comp_labels (K) float; params as gmm.cl: K blocks of D*D + 2D + 1 floats (U_k^T row-major, lambda_k, mu_k, log w_k).
// Online log-sum-exp over k as in gmm.cl. Defines: D (required). Private memory: 4 D floats per work-item.

#ifndef D
#error "define D, the mixture dimension"
#endif
#define STRIDE (D * D + 2 * D + 1)

__kernel void gmm_conditional_predict(__global float* out, __global const float* x, __global const float* labels,
                                      __global const float* comp_labels, __global const float* params,
                                      const int n, const int K, const int has_labels, const int label,
                                      const float s, const float sigma, const float a, const float b, const float c) {
    int row = get_global_id(0);
    if (row >= n) return;
    int lab = has_labels ? (int)rint(labels[row]) : label;
    __global const float* xr = x + (long)row * D;
    float diff[D], z[D], accz[D], accx[D];
    for (int i = 0; i < D; i++) { accz[i] = 0.0f; accx[i] = 0.0f; }
    const float s2 = s * s, sig2 = sigma * sigma;
    float m = 0.0f, S = 0.0f;
    int first = 1;
    for (int k = 0; k < K; k++) {
        if (lab >= 0 && (int)rint(comp_labels[k]) != lab) continue;
        __global const float* p = params + (long)k * STRIDE;
        __global const float* lam = p + D * D;
        __global const float* mu = lam + D;
        for (int i = 0; i < D; i++) diff[i] = xr[i] - s * mu[i];
        float quad = 0.0f, logdet = 0.0f;
        for (int j = 0; j < D; j++) {
            float y = 0.0f;
            for (int i = 0; i < D; i++) y += p[j * D + i] * diff[i];
            float v = s2 * lam[j] + sig2;
            z[j] = y / v;
            quad += y * z[j];
            logdet += log(v);
        }
        float l = mu[D] - 0.5f * (logdet + quad);
        float e;
        if (first || l > m) {
            float rescale = first ? 0.0f : exp(m - l);
            S *= rescale;
            for (int i = 0; i < D; i++) { accz[i] *= rescale; accx[i] *= rescale; }
            m = l;
            e = 1.0f;
            first = 0;
        } else {
            e = exp(l - m);
        }
        S += e;
        for (int i = 0; i < D; i++) accx[i] += e * mu[i];
        for (int j = 0; j < D; j++) {
            float ez = e * z[j], elz = ez * s * lam[j];
            for (int i = 0; i < D; i++) {
                float uij = p[j * D + i];  // U_k[i][j]
                accz[i] += uij * ez;
                accx[i] += uij * elz;
            }
        }
    }
    __global float* o = out + (long)row * D;
    float inv = 1.0f / S;
    for (int i = 0; i < D; i++) o[i] = a * xr[i] - b * accz[i] * inv + c * accx[i] * inv;
}
