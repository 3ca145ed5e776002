package dev.diffuse.samplers.schedule;

/**
 * A linear diffusion SDE dx = f(t) x dt + g(t) dw on t in [0, 1] with Gaussian marginals
 * x_t = scale(t) x_0 + sigma(t) eps. Its reverse-time SDE and probability-flow ODE (Song et al. 2021) are
 * <pre>
 *   dx = [f x - g^2 score] dt + g dw_bar          dx/dt = f x - g^2 score / 2
 * </pre>
 * and with score = -eps / sigma both are linear in (x, eps) with host-computable coefficients.
 */
public sealed interface Sde permits VpSde, VeSde {
    /** f(t), the linear drift coefficient. */
    double drift(double t);

    /** g(t)^2, the squared diffusion coefficient. */
    double g2(double t);

    double scale(double t);

    double sigma(double t);

    /** Standard deviation of the prior x_1 ~ N(0, priorStd^2 I). */
    double priorStd();

    /** The smallest time samplers integrate down to. */
    double tEnd();

    String name();
}
