package dev.diffuse.tornado.kernels;

import dev.diffuse.tornado.Tasks;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * GroupNorm forward, optionally fused with SiLU ("GroupNorm + SiLU (2-&gt;1)"), for TornadoVM (KernelContext API):
 * <pre>
 *   per group (b, g) of N = (C/G) H W contiguous floats:  mu = mean(x), var = mean((x - mu)^2) (biased), rstd = 1/sqrt(var + eps)
 *   z = (x - mu) rstd gamma[c] + beta[c];   y = z  or  y = z sigmoid(z)
 * </pre>
 * One work-group of {@value #WG} items per group. Pass 1 sums x (strided per item, then a fixed-order tree in local
 * memory), pass 2 sums (x - mu)^2 the same way (two passes instead of a Welford merge: the same stability for the
 * sizes here, simpler code), pass 3 writes y. No atomics: results are identical from run to run. Optional outputs
 * mean and rstd (B, G) ({@code stats} &lt; 0: none) are what the training forward saves.
 */
public final class GroupNormTornado {
    static final int WG = 256;

    private GroupNormTornado() {}

    public static void forwardKernel(KernelContext kc, FloatArray act, FloatArray par, int y, int x, int gamma, int beta,
                                     int stats, int c, int hw, int groups, float eps, int silu) {
        int bg = kc.groupIdx, lid = kc.localIdx;
        int cg = c / groups, n = cg * hw, base = bg * n, g = bg % groups;
        float[] red = kc.allocateFloatLocalArray(WG);
        float s = 0f;
        for (int i = lid; i < n; i += WG) s += act.get(x + base + i);
        red[lid] = s;
        kc.localBarrier();
        for (int h = WG / 2; h > 0; h /= 2) {
            if (lid < h) red[lid] += red[lid + h];
            kc.localBarrier();
        }
        float mu = red[0] / n;
        kc.localBarrier();
        float q = 0f;
        for (int i = lid; i < n; i += WG) {
            float d = act.get(x + base + i) - mu;
            q += d * d;
        }
        red[lid] = q;
        kc.localBarrier();
        for (int h = WG / 2; h > 0; h /= 2) {
            if (lid < h) red[lid] += red[lid + h];
            kc.localBarrier();
        }
        float rstd = (float) (1.0 / Math.sqrt(red[0] / n + eps));
        if (stats >= 0 && lid == 0) {
            act.set(stats + bg, mu);
            act.set(stats + kc.globalGroupSizeX / WG + bg, rstd);
        }
        for (int i = lid; i < n; i += WG) {
            int ch = g * cg + i / hw;
            float z = (act.get(x + base + i) - mu) * rstd * par.get(gamma + ch) + par.get(beta + ch);
            if (silu != 0) z = z / (1f + TornadoMath.exp(-z));
            act.set(y + base + i, z);
        }
    }

    /**
     * y = GroupNorm(x) [then SiLU] over x (nb, c, hw) in {@code act}, gamma and beta (c) in {@code par}; with
     * {@code stats} &gt;= 0 also mean (nb, groups) at stats and rstd (nb, groups) right after it.
     */
    public static void forward(Tasks t, FloatArray act, FloatArray par, int y, int x, int gamma, int beta, int stats,
                               int nb, int c, int hw, int groups, float eps, boolean silu) {
        if (c % groups != 0)
            throw new IllegalArgumentException("groupnorm (TornadoVM): " + c + " channels do not split into " + groups + " groups");
        String id = t.name(silu ? "groupnorm_silu" : "groupnorm");
        t.graph().task(id, GroupNormTornado::forwardKernel, new KernelContext(), act, par, y, x, gamma, beta, stats, c, hw, groups,
                eps, silu ? 1 : 0);
        t.grid(id, Tasks.grid1d((long) nb * groups * WG, WG));
    }
}
