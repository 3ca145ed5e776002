package dev.diffuse.kernels.consistency;

import dev.diffuse.kernels.Checks;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Consistency-model parameterisation (Song et al. 2023, EDM form) with a per-sample noise level sigma_b, sd = sigma_data:
 * <pre>
 *   c_skip(s) = sd^2 / ((s - smin)^2 + sd^2),   c_out(s) = (s - smin) sd / sqrt(s^2 + sd^2),   c_in(s) = 1 / sqrt(s^2 + sd^2)
 *   forward (combine): f = c_skip(sigma_b) x + c_out(sigma_b) F          (F = network(c_in x, c_noise(sigma)))
 *   so dF = c_out df and dx = c_skip df (only dF is used: training does not differentiate through x)
 *   loss backward:     L = (1/n) sum (f - f_target)^2 with f_target constant (the EMA target network, no gradient),
 *                      so dF = c_out(sigma_b) * 2 (f - f_target) / n
 * </pre>
 * At s = smin, c_skip = 1 and c_out = 0 exactly (c_skip is evaluated as 1 - d^2/(d^2 + sd^2)), so f(x, smin) = x bit
 * for bit: the boundary condition of a consistency function. {@link #perturb} draws the training pair's shared noise:
 * out = x0 + sigma_b z with z = normal i of (seed, stream), so two calls on one stream give x + s_{n+1} z and x + s_n z.
 * All ops are elementwise (one read-modify-write pass), tensors (B, ...) contiguous, sigma (B).
 */
public final class Consistency {
    static final String SRC = "dev/diffuse/kernels/consistency.cl";

    private Consistency() {}

    /** c_skip in double (the definition). */
    public static double cSkip(double s, double smin, double sd) { return sd * sd / ((s - smin) * (s - smin) + sd * sd); }

    /** c_out in double. */
    public static double cOut(double s, double smin, double sd) { return (s - smin) * sd / Math.sqrt(s * s + sd * sd); }

    /** c_in in double. */
    public static double cIn(double s, double sd) { return 1 / Math.sqrt(s * s + sd * sd); }

    /** out = x0 + sigma_b z, z = normal i of (seed, stream). */
    public static void perturb(Tensor out, Tensor x0, Tensor sigma, long seed, long stream) {
        int per = check("cm_perturb", sigma, out, x0);
        switch (Checks.sameDevice("cm_perturb", out, x0, sigma)) {
            case JavaDevice j -> ConsistencyJava.perturb(j, out, x0, sigma, per, seed, stream);
            case ClDevice c -> c.kernel(SRC, "cm_perturb").launch1d(out.numel(), 256, out, x0, sigma, per, out.numel(), seed, stream);
        }
    }

    /** out = c_in(sigma_b) x. */
    public static void input(Tensor out, Tensor x, Tensor sigma, float sigmaData) {
        int per = check("cm_input", sigma, out, x);
        positive("cm_input", sigmaData);
        switch (Checks.sameDevice("cm_input", out, x, sigma)) {
            case JavaDevice j -> ConsistencyJava.input(j, out, x, sigma, per, sigmaData);
            case ClDevice c -> c.kernel(SRC, "cm_input").launch1d(out.numel(), 256, out, x, sigma, per, out.numel(), sigmaData);
        }
    }

    /** f = c_skip(sigma_b) x + c_out(sigma_b) F. */
    public static void combine(Tensor f, Tensor x, Tensor net, Tensor sigma, float sigmaMin, float sigmaData) {
        int per = check("cm_combine", sigma, f, x, net);
        positive("cm_combine", sigmaData);
        switch (Checks.sameDevice("cm_combine", f, x, net, sigma)) {
            case JavaDevice j -> ConsistencyJava.combine(j, f, x, net, sigma, per, sigmaMin, sigmaData);
            case ClDevice c -> c.kernel(SRC, "cm_combine").launch1d(f.numel(), 256, f, x, net, sigma, per, f.numel(), sigmaMin, sigmaData);
        }
    }

    /** dF = c_out(sigma_b) * 2 (f - fTarget) / n (written): the MSE consistency loss's gradient w.r.t. the network output. */
    public static void lossBackward(Tensor dNet, Tensor f, Tensor fTarget, Tensor sigma, float sigmaMin, float sigmaData) {
        int per = check("cm_loss_backward", sigma, dNet, f, fTarget);
        positive("cm_loss_backward", sigmaData);
        float scale = (float) (2.0 / f.numel());
        switch (Checks.sameDevice("cm_loss_backward", dNet, f, fTarget, sigma)) {
            case JavaDevice j -> ConsistencyJava.lossBackward(j, dNet, f, fTarget, sigma, per, sigmaMin, sigmaData, scale);
            case ClDevice c -> c.kernel(SRC, "cm_loss_backward").launch1d(f.numel(), 256, dNet, f, fTarget, sigma, per, f.numel(),
                    sigmaMin, sigmaData, scale);
        }
    }

    private static void positive(String op, float sd) {
        if (!(sd > 0)) throw new IllegalArgumentException(op + ": sigma_data must be > 0 (the data's standard deviation), got " + sd);
    }

    /** Same numel for the tensors, one sigma per sample of the first; returns values per sample. */
    private static int check(String op, Tensor sigma, Tensor... ts) {
        Checks.sameNumel(op, ts[0], java.util.Arrays.copyOfRange(ts, 1, ts.length));
        Tensor a = ts[0];
        if (a.rank() < 1 || a.dim(0) < 1) throw new IllegalArgumentException(op + ": tensors must be (B, ...), got " + a);
        if (sigma.numel() != a.dim(0))
            throw new IllegalArgumentException(op + ": sigma must hold one noise level per sample (" + a.dim(0) + "), got " + sigma);
        long per = a.numel() / a.dim(0);
        if (per > Integer.MAX_VALUE || a.numel() > Integer.MAX_VALUE)
            throw new IllegalArgumentException(op + ": " + a.numel() + " elements is too many for one launch; split the batch");
        return (int) per;
    }
}
