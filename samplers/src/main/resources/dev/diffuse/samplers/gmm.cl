// Exact score and log density of a noised Gaussian mixture, one work-item per row.
//
// Mixture: p(x_0) = sum_k w_k N(mu_k, U_k diag(lambda_k) U_k^T). Noised by x_t = s x_0 + sigma eps, component k is
// N(s mu_k, U_k diag(v_k) U_k^T) with v_kj = s^2 lambda_kj + sigma^2. Per row x and component k:
//   y = U_k^T (x - s mu_k),  z = y / v_k,  l_k = log w_k - (sum_j log v_kj + sum_j y_j z_j) / 2
//   log p(x) = logsumexp_k l_k - D log(2 pi) / 2,   score(x) = -sum_k r_k U_k z_k,  r_k = exp(l_k - logsumexp).
// The sum over k runs once with an online log-sum-exp: running max m, S = sum exp(l_k - m), acc = sum exp(l_k - m)
// U_k z_k, rescaled by exp(m_old - m_new) when the max grows; so score = -acc / S.
//
// Layout: x (N, D) row-major; params: K blocks of stride D*D + 2D + 1 floats: U_k^T row-major (row j = eigenvector
// j), lambda_k (D), mu_k (D), log w_k (1) -- uploaded once per mixture. Every work-item reads the same parameter
// addresses at the same time (broadcast loads); x and out rows are private to their work-item.
//
// Kernels:
//   gmm_predict:     out (N, D) = a * x + b * score(x)  (a, b chosen by the host: score, epsilon, x0, v, velocity)
//   gmm_log_density: out (N)    = log p_t(x)
// Defines: D (the dimension, required; it sizes the private arrays: 3*D floats per work-item).
// Preconditions: s >= 0, sigma >= 0, s^2 lambda + sigma^2 > 0. Any N (the tail of the last work-group is guarded).

#ifndef D
#error "define D, the mixture dimension"
#endif
#define STRIDE (D * D + 2 * D + 1)
#define LOG_2PI 1.8378770664093453f

// l_k for row xr; writes z = y / v into z[]; uses diff[] as scratch.
float gmm_log_term(__global const float* p, __global const float* xr, const float s, const float s2,
                          const float sig2, float* diff, float* z) {
    __global const float* ut = p;
    __global const float* lam = p + D * D;
    __global const float* mu = lam + D;
    for (int i = 0; i < D; i++) diff[i] = xr[i] - s * mu[i];
    float quad = 0.0f, logdet = 0.0f;
    for (int j = 0; j < D; j++) {
        float y = 0.0f;
        for (int i = 0; i < D; i++) y += ut[j * D + i] * diff[i];
        float v = s2 * lam[j] + sig2;
        float zj = y / v;
        z[j] = zj;
        quad += y * zj;
        logdet += log(v);
    }
    return mu[D] - 0.5f * (logdet + quad);
}

__kernel void gmm_predict(__global float* out, __global const float* x, __global const float* params,
                          const int n, const int K, const float s, const float sigma, const float a, const float b) {
    int row = get_global_id(0);
    if (row >= n) return;
    __global const float* xr = x + (long)row * D;
    float diff[D], z[D], acc[D];
    for (int i = 0; i < D; i++) acc[i] = 0.0f;
    const float s2 = s * s, sig2 = sigma * sigma;
    float m = 0.0f, S = 0.0f;
    for (int k = 0; k < K; k++) {
        __global const float* p = params + (long)k * STRIDE;
        float l = gmm_log_term(p, xr, s, s2, sig2, diff, z);
        float e;
        if (k == 0 || l > m) {
            float rescale = k == 0 ? 0.0f : exp(m - l);
            S *= rescale;
            for (int i = 0; i < D; i++) acc[i] *= rescale;
            m = l;
            e = 1.0f;
        } else {
            e = exp(l - m);
        }
        S += e;
        for (int j = 0; j < D; j++) {
            float ez = e * z[j];
            for (int i = 0; i < D; i++) acc[i] += p[j * D + i] * ez;  // U_k z = sum_j z_j * (row j of U_k^T)
        }
    }
    __global float* o = out + (long)row * D;
    float inv = -1.0f / S;
    for (int i = 0; i < D; i++) o[i] = a * xr[i] + b * (acc[i] * inv);
}

__kernel void gmm_log_density(__global float* out, __global const float* x, __global const float* params,
                              const int n, const int K, const float s, const float sigma) {
    int row = get_global_id(0);
    if (row >= n) return;
    __global const float* xr = x + (long)row * D;
    float diff[D], z[D];
    const float s2 = s * s, sig2 = sigma * sigma;
    float m = 0.0f, S = 0.0f;
    for (int k = 0; k < K; k++) {
        float l = gmm_log_term(params + (long)k * STRIDE, xr, s, s2, sig2, diff, z);
        if (k == 0 || l > m) {
            S = (k == 0 ? 0.0f : S * exp(m - l)) + 1.0f;
            m = l;
        } else {
            S += exp(l - m);
        }
    }
    out[row] = m + log(S) - 0.5f * D * LOG_2PI;
}

// gmm_vjp: out (N, D) = a * v + b * H v, the vector-Jacobian product of gmm_predict's a x + b score(x), where
// H = sum_k r_k (g_k g_k^T - P_k) - score score^T is the (symmetric) Hessian of log p_t, g_k = -U_k z_k and
// P_k v = U_k ((U_k^T v) / v_k). Same online log-sum-exp over k as gmm_predict: acc_h collects
// e_k (g_k (g_k . v) - P_k v), acc_g collects e_k g_k; at the end H v = acc_h / S - score (score . v), score = acc_g / S.
// Private memory: 5*D floats per work-item.
__kernel void gmm_vjp(__global float* out, __global const float* x, __global const float* vv, __global const float* params,
                      const int n, const int K, const float s, const float sigma, const float a, const float b) {
    int row = get_global_id(0);
    if (row >= n) return;
    __global const float* xr = x + (long)row * D;
    __global const float* vr = vv + (long)row * D;
    float diff[D], z[D], acch[D], accg[D], g[D];
    for (int i = 0; i < D; i++) { acch[i] = 0.0f; accg[i] = 0.0f; }
    const float s2 = s * s, sig2 = sigma * sigma;
    float m = 0.0f, S = 0.0f;
    for (int k = 0; k < K; k++) {
        __global const float* p = params + (long)k * STRIDE;
        __global const float* lam = p + D * D;
        float l = gmm_log_term(p, xr, s, s2, sig2, diff, z);
        float e;
        if (k == 0 || l > m) {
            float rescale = k == 0 ? 0.0f : exp(m - l);
            S *= rescale;
            for (int i = 0; i < D; i++) { acch[i] *= rescale; accg[i] *= rescale; }
            m = l;
            e = 1.0f;
        } else {
            e = exp(l - m);
        }
        S += e;
        // g = -U_k z (U_k z = sum_j z_j * row j of U_k^T); diff is reused for (U_k^T v) / v_k
        for (int i = 0; i < D; i++) g[i] = 0.0f;
        for (int j = 0; j < D; j++) {
            float t = 0.0f;
            for (int i = 0; i < D; i++) {
                g[i] -= p[j * D + i] * z[j];
                t += p[j * D + i] * vr[i];
            }
            diff[j] = t / (s2 * lam[j] + sig2);
        }
        float gv = 0.0f;
        for (int i = 0; i < D; i++) gv += g[i] * vr[i];
        for (int i = 0; i < D; i++) {
            float pv = 0.0f;
            for (int j = 0; j < D; j++) pv += p[j * D + i] * diff[j];
            acch[i] += e * (g[i] * gv - pv);
            accg[i] += e * g[i];
        }
    }
    float inv = 1.0f / S, sv = 0.0f;
    for (int i = 0; i < D; i++) { accg[i] *= inv; sv += accg[i] * vr[i]; }
    __global float* o = out + (long)row * D;
    for (int i = 0; i < D; i++) o[i] = a * vr[i] + b * (acch[i] * inv - accg[i] * sv);
}
