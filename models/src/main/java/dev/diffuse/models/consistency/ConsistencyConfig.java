package dev.diffuse.models.consistency;

import dev.diffuse.kernels.optim.Optim;

/**
 * Hyper-parameters of consistency training (CT, Song et al. 2023, Algorithm 3 with the EDM parameterisation).
 *
 * @param steps      optimizer steps K
 * @param batch      samples per step
 * @param lr         Adam learning rate (constant after {@code warmupSteps} linear warm-up)
 * @param warmupSteps linear warm-up steps
 * @param sigmaMin   smallest noise level (the boundary f(x, sigmaMin) = x), EDM 0.002
 * @param sigmaMax   largest noise level (the prior N(0, sigmaMax^2 I)), EDM 80
 * @param rho        Karras grid exponent (7)
 * @param sigmaData  data standard deviation in c_skip / c_out / c_in (0.5 for images in [-1, 1]; the data's std for 2-D)
 * @param s0         discretisation steps N at the start of training (N(k) grows from s0 to s1; s0 = s1: fixed N)
 * @param s1         discretisation steps N at the end of training
 * @param mu0        target EMA decay at N = s0; mu(k) = exp(s0 ln(mu0) / N(k))
 * @param gradClip   max global gradient norm (0: none)
 * @param seed       key of every random draw (batch rows, noise-level indices, the shared noise z)
 * @param logEvery   read the mean loss back every this many steps
 */
public record ConsistencyConfig(int steps, int batch, double lr, int warmupSteps, double sigmaMin, double sigmaMax, double rho,
                                double sigmaData, int s0, int s1, double mu0, double gradClip, long seed, int logEvery) {
    public ConsistencyConfig {
        StringBuilder bad = new StringBuilder();
        if (steps < 1 || batch < 1 || logEvery < 1 || warmupSteps < 0) bad.append(" steps, batch, logEvery >= 1 and warmupSteps >= 0;");
        if (!(sigmaMin > 0 && sigmaMax > sigmaMin)) bad.append(" 0 < sigmaMin < sigmaMax (got ").append(sigmaMin).append(", ").append(sigmaMax).append(");");
        if (!(rho > 0) || !(sigmaData > 0)) bad.append(" rho > 0 and sigmaData > 0;");
        if (s0 < 2 || s1 < s0) bad.append(" 2 <= s0 <= s1 (got ").append(s0).append(", ").append(s1).append(");");
        if (!(mu0 >= 0 && mu0 < 1)) bad.append(" mu0 in [0, 1) (got ").append(mu0).append(");");
        if (!(gradClip >= 0)) bad.append(" gradClip >= 0;");
        if (!bad.isEmpty()) throw new IllegalArgumentException("consistency config: need" + bad);
    }

    /**
     * For 2-D mixtures: lr 1e-3 (20 warm-up), sigmas 0.002..20 (sigma_max about 7 sigma_data for ring8), rho 7, N from 2
     * to 40, mu0 = 0 (the target is the online network without gradient, as in improved CT, Song and Dhariwal 2023:
     * on ring8 after 1500 steps it gave a 1-step mean log p of -18.9 against -28.0 with mu0 = 0.95), clip 1.
     */
    public static ConsistencyConfig defaults2d(int steps, int batch, double sigmaData, long seed) {
        return new ConsistencyConfig(steps, batch, 1e-3, 20, 0.002, 20, 7, sigmaData, 2, 40, 0, 1.0, seed, 100);
    }

    /**
     * For consistency distillation of 2-D mixtures with an exact teacher ({@code ConsistencyTrainer(..., teacher, 20)}):
     * as {@link #defaults2d} but sigma_max 10 and a fixed coarse grid N = 3 (sigma 0.002, 0.478, 10). With the exact
     * ODE solved by 20 Heun sub-steps per interval, a coarse grid trains the 1-step map with little accumulated
     * consistency error; the middle level is where the 2-step sampler re-noises to. Measured on ring8 after 1500 steps
     * (docs/consistency-and-flow.md): N 2..40 with 1 sub-step gave a 1-step mean log p of -15.4, N = 6 with 8 sub-steps
     * -8.6, N = 3 with 20 sub-steps -3.7 (exact samples -2.55).
     */
    public static ConsistencyConfig distillation2d(int steps, int batch, double sigmaData, long seed) {
        return new ConsistencyConfig(steps, batch, 1e-3, 20, 0.002, 10, 7, sigmaData, 3, 3, 0, 1.0, seed, 100);
    }

    /**
     * For images in [-1, 1] (improved CT, Song and Dhariwal 2023, scaled down to short runs): sigma 0.002..80, rho 7,
     * N growing from 10 to 80 (iCT goes to 1280 over 400k steps), mu0 = 0 (no EMA target), grad clip 1, Adam with the
     * given lr and linear warm-up. Pair with {@code ConsistencyTrainer.lognormalLevels(-1.1 + ln(sigmaData / 0.5), 2)}.
     */
    public static ConsistencyConfig images(int steps, int batch, double lr, int warmupSteps, double sigmaData, long seed, int logEvery) {
        return new ConsistencyConfig(steps, batch, lr, warmupSteps, 0.002, 80, 7, sigmaData, 10, 80, 0, 1.0, seed, logEvery);
    }

    /** The same config run to a new total of {@code steps} (to resume past the original end). */
    public ConsistencyConfig withSteps(int steps) {
        return new ConsistencyConfig(steps, batch, lr, warmupSteps, sigmaMin, sigmaMax, rho, sigmaData, s0, s1, mu0, gradClip, seed, logEvery);
    }

    /** Discretisation steps at update k (1-based): N(k) = ceil(sqrt(k/K ((s1 + 1)^2 - s0^2) + s0^2) - 1) + 1. */
    public int discretisation(int k) {
        double v = Math.sqrt((double) k / steps * ((s1 + 1.0) * (s1 + 1.0) - (double) s0 * s0) + (double) s0 * s0);
        return Math.min(s1, (int) Math.ceil(v - 1) + 1);
    }

    /** Target EMA decay at update k: mu(k) = exp(s0 ln(mu0) / N(k)). */
    public double targetDecay(int k) { return mu0 == 0 ? 0 : Math.exp(s0 * Math.log(mu0) / discretisation(k)); }

    /** Karras grid sigma_i, i = 1..n: (smin^(1/rho) + (i-1)/(n-1) (smax^(1/rho) - smin^(1/rho)))^rho (sigma_1 = smin, sigma_n = smax). */
    public double sigma(int i, int n) {
        double a = Math.pow(sigmaMin, 1 / rho), b = Math.pow(sigmaMax, 1 / rho);
        return Math.pow(a + (double) (i - 1) / (n - 1) * (b - a), rho);
    }

    public Optim.AdamWConfig adam(int k) {
        double l = warmupSteps == 0 ? lr : lr * Math.min(1.0, (double) k / warmupSteps);
        return new Optim.AdamWConfig(l, 0.9, 0.999, 1e-8, 0);
    }
}
