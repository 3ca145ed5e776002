package dev.diffuse.samplers.pipeline;

import dev.diffuse.kernels.diffusion.SamplerCombine;
import dev.diffuse.runtime.Noise;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.Sampler;
import dev.diffuse.samplers.schedule.NoisePath;

/**
 * DPM-Solver++ (Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling"), the data-prediction form, on a VP
 * {@link NoisePath}. With lambda = log(s / sigma) the probability-flow ODE's exact solution from node k to k + 1 is
 * x_{k+1} = (sigma_{k+1} / sigma_k) x_k + s_{k+1} int_{lambda_k}^{lambda_{k+1}} e^{-(lambda_{k+1} - l)} x0_hat dl;
 * with h = lambda_{k+1} - lambda_k and phi = 1 - e^{-h} (exact in the linear part):
 * <pre>
 *   first order (= DDIM, since e^{-h} = s sigma' / (s' sigma)):  x' = (sigma'/sigma) x + s' phi x0_k
 *   2M (multistep):        x' = (sigma'/sigma) x + s' phi [(1 + 1/(2r)) x0_k - 1/(2r) x0_{k-1}],  r = h_{k-1} / h
 *   2S (single-step, r = 1/2, two evaluations): u = (sigma_u/sigma) x + s_u (1 - e^{-h/2}) x0_k at lambda_k + h/2,
 *                          x' = (sigma'/sigma) x + s' phi x0_hat(u)
 * </pre>
 * x0_k = p x + q m is affine in (x, m) ({@link Epsilon}: x0 = (x - sigma eps) / s). 2M's update is one
 * {@link SamplerCombine} pass over (x, m, x0_{k-1}) that also overwrites x0_{k-1} with x0_k (the one extra tensor);
 * 2S's two stages fold into one pass over (x, m1, m2) as Heun's do. The first step is first order (no history) and so
 * is a step to a clean node (h = infinity: x' = x0), and with {@code lowerOrderFinal} the last step when N < 15
 * (diffusers' rule: it stabilises few-step sampling).
 */
public record DpmSolverSampler(NoisePath path, Method method, boolean lowerOrderFinal) implements Sampler {
    /** FIRST_ORDER is DDIM (eta = 0) written as an exponential integrator: for comparisons on the same nodes. */
    public enum Method { FIRST_ORDER, MULTISTEP_2M, SINGLESTEP_2S }

    @Override
    public String name() {
        return switch (method) {
            case FIRST_ORDER -> "dpmpp-1";
            case MULTISTEP_2M -> "dpmpp-2m";
            case SINGLESTEP_2S -> "dpm-2s";
        };
    }

    public int steps() { return path.steps(); }

    @Override
    public boolean deterministic() { return true; }

    @Override
    public int evaluations() {
        if (method != Method.SINGLESTEP_2S) return steps();
        int n = 0;
        for (int k = 0; k < steps(); k++) n += secondOrderStage(k) ? 2 : 1;
        return n;
    }

    @Override public double priorStd() { return 1; }

    private boolean finalLow(int k) { return lowerOrderFinal && k == steps() - 1 && steps() < 15; }

    private boolean secondOrderStage(int k) { return path.sigma()[k + 1] > 0 && !finalLow(k); }

    @Override
    public void run(Denoiser model, Tensor x, Noise noise, Workspace ws) {
        boolean single = method == Method.SINGLESTEP_2S;
        Scratch s = new Scratch(ws, x, single);
        Tensor prev = single ? null : ws.like(x);
        double[] sc = path.scale(), sg = path.sigma(), ts = path.timestep();
        Denoiser.Prediction p = model.prediction();
        double hPrev = Double.NaN;
        for (int k = 0; k < steps(); k++) {
            model.predict(s.m1, x, new Denoiser.NoiseLevel(sc[k], sg[k], ts[k]));
            Lin x0 = x0(p, sc[k], sg[k], false);
            double h = path.lambda(k + 1) - path.lambda(k);
            double ratio = sg[k + 1] / sg[k], phi = sg[k + 1] == 0 ? 1 : -Math.expm1(-h);
            Lin first = Lin.X.times(ratio).plus(x0.times(sc[k + 1] * phi));
            if (single) {
                if (!secondOrderStage(k)) {
                    s.update(x, x, first, 0, noise, 0);
                    continue;
                }
                double[] mid = path.between(k, 0.5);
                Lin u = Lin.X.times(mid[1] / sg[k]).plus(x0.times(mid[0] * -Math.expm1(-h / 2)));
                s.update(s.xt, x, u, 0, noise, 0);
                model.predict(s.m2, s.xt, new Denoiser.NoiseLevel(mid[0], mid[1], mid[2]));
                Lin x0u = x0(p, mid[0], mid[1], true);                       // over (u, m2)
                Lin x0OverX = u.times(x0u.x()).plus(new Lin(0, 0, x0u.m2()));
                s.update(x, x, Lin.X.times(ratio).plus(x0OverX.times(sc[k + 1] * phi)), 0, noise, 0);
                continue;
            }
            Tensor aux = k + 1 < steps() ? prev : null;                      // x0_k for the next step
            if (k == 0 || !secondOrderStage(k) || method == Method.FIRST_ORDER) {
                SamplerCombine.combine(x, aux, x, new Tensor[]{s.m1}, first.x(), new double[]{first.m1()}, x0.x(), x0.m1(), 0, noise, 0);
            } else {
                double r = hPrev / h, c1 = 1 + 1 / (2 * r), c2 = -1 / (2 * r), w = sc[k + 1] * phi;
                SamplerCombine.combine(x, aux, x, new Tensor[]{s.m1, prev}, ratio + w * c1 * x0.x(),
                        new double[]{w * c1 * x0.m1(), w * c2}, x0.x(), x0.m1(), 0, noise, 0);
            }
            hPrev = h;
        }
    }

    /** x0 = (x - sigma eps) / s with eps = cx x + cm m, as a Lin over (x, m) with m in slot m1 or m2. */
    private static Lin x0(Denoiser.Prediction p, double s, double sigma, boolean secondSlot) {
        double[] e = Epsilon.affine(p, s, sigma);
        double cx = (1 - sigma * e[0]) / s, cm = -sigma * e[1] / s;
        return secondSlot ? new Lin(cx, 0, cm) : new Lin(cx, cm, 0);
    }
}
