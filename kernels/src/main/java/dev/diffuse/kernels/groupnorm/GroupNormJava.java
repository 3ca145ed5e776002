package dev.diffuse.kernels.groupnorm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Java reference for {@link GroupNorm}: plain loops, one task per (b, g) via {@link JavaDevice#parallelFor}.
 * Sums are accumulated in double in a fixed order, so results are deterministic.
 */
final class GroupNormJava {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private GroupNormJava() {}

    static float sigmoid(float z) { return (float) (1.0 / (1.0 + Math.exp(-z))); }

    static void forward(JavaDevice d, boolean silu, Tensor y, Tensor mean, Tensor rstd, Tensor x, Tensor gamma,
                        Tensor beta, int[] s, int groups, float eps) {
        int C = s[1], HW = s[2], Cg = C / groups, N = Cg * HW;
        MemorySegment ys = y.segment(), ms = mean.segment(), rs = rstd.segment(), xs = x.segment(),
                gs = gamma.segment(), bs = beta.segment();
        d.parallelFor(s[0] * groups, bg -> {
            long base = (long) bg * N;   // group (b, g) starts at (b*C + g*Cg)*HW = bg*N
            double sum = 0;
            for (int i = 0; i < N; i++) sum += xs.getAtIndex(F, base + i);
            double mu = sum / N, ss = 0;
            for (int i = 0; i < N; i++) {
                double dv = xs.getAtIndex(F, base + i) - mu;
                ss += dv * dv;
            }
            float m = (float) mu, r = (float) (1.0 / Math.sqrt(ss / N + eps));
            ms.setAtIndex(F, bg, m);
            rs.setAtIndex(F, bg, r);
            int g = bg % groups;
            for (int i = 0; i < N; i++) {
                int c = g * Cg + i / HW;
                float z = (xs.getAtIndex(F, base + i) - m) * r * gs.getAtIndex(F, c) + bs.getAtIndex(F, c);
                ys.setAtIndex(F, base + i, silu ? z * sigmoid(z) : z);
            }
        });
    }

    static void backward(JavaDevice d, boolean silu, Tensor dx, Tensor dgamma, Tensor dbeta, Tensor dy, Tensor x,
                         Tensor gamma, Tensor beta, Tensor mean, Tensor rstd, Tensor scratch, int[] s, int groups) {
        int B = s[0], C = s[1], HW = s[2], Cg = C / groups, N = Cg * HW;
        MemorySegment dxs = dx.segment(), dys = dy.segment(), xs = x.segment(), gs = gamma.segment(),
                bs = beta.segment(), ms = mean.segment(), rs = rstd.segment(), ps = scratch.segment();
        d.parallelFor(B * groups, bg -> {
            int b = bg / groups, g = bg % groups;
            long base = (long) bg * N;
            float mu = ms.getAtIndex(F, bg), r = rs.getAtIndex(F, bg);
            double s0 = 0, s1 = 0;   // sum dxhat*xhat, sum dxhat over the group
            for (int cl = 0; cl < Cg; cl++) {
                int c = g * Cg + cl;
                float ga = gs.getAtIndex(F, c), be = bs.getAtIndex(F, c);
                double p0 = 0, p1 = 0;   // sum_hw dz*xhat, sum_hw dz for channel c
                for (int i = 0; i < HW; i++) {
                    long k = base + (long) cl * HW + i;
                    float xh = (xs.getAtIndex(F, k) - mu) * r;
                    float dz = gradZ(dys.getAtIndex(F, k), xh, ga, be, silu);
                    p0 += dz * xh;
                    p1 += dz;
                }
                ps.setAtIndex(F, (long) b * C + c, (float) p0);
                ps.setAtIndex(F, (long) B * C + (long) b * C + c, (float) p1);
                s0 += ga * p0;
                s1 += ga * p1;
            }
            float m0 = (float) (s0 / N), m1 = (float) (s1 / N);
            for (int i = 0; i < N; i++) {
                int c = g * Cg + i / HW;
                float ga = gs.getAtIndex(F, c);
                float xh = (xs.getAtIndex(F, base + i) - mu) * r;
                float dz = gradZ(dys.getAtIndex(F, base + i), xh, ga, bs.getAtIndex(F, c), silu);
                dxs.setAtIndex(F, base + i, r * (dz * ga - m1 - xh * m0));
            }
        });
        MemorySegment dgs = dgamma.segment(), dbs = dbeta.segment();
        for (int c = 0; c < C; c++) {   // fixed order over b: deterministic
            float sg = 0, sb = 0;
            for (int b = 0; b < B; b++) {
                sg += ps.getAtIndex(F, (long) b * C + c);
                sb += ps.getAtIndex(F, (long) B * C + (long) b * C + c);
            }
            dgs.setAtIndex(F, c, dgs.getAtIndex(F, c) + sg);
            dbs.setAtIndex(F, c, dbs.getAtIndex(F, c) + sb);
        }
    }

    /** dL/dz from dL/dy: identity, or SiLU' at z = xhat*gamma + beta. */
    static float gradZ(float dy, float xh, float ga, float be, boolean silu) {
        if (!silu) return dy;
        float z = xh * ga + be, sg = sigmoid(z);
        return dy * (sg + z * sg * (1 - sg));
    }
}
