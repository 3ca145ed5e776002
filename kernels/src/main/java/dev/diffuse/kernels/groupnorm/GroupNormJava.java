package dev.diffuse.kernels.groupnorm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Java reference for {@link GroupNorm} (the readable spec; the device runs {@link GroupNormVector}): plain loops,
 * one task per (b, g) via {@link JavaDevice#parallelFor}, the group copied into heap arrays (the backward evaluates
 * SiLU' once per element and keeps it). Sums are accumulated in double in a fixed order, so results are deterministic.
 */
final class GroupNormJava {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private GroupNormJava() {}

    static float sigmoid(float z) { return (float) (1.0 / (1.0 + Math.exp(-z))); }

    static void forward(JavaDevice d, boolean silu, Tensor y, Tensor mean, Tensor rstd, Tensor x, Tensor gamma,
                        Tensor beta, int[] s, int groups, float eps) {
        int C = s[1], HW = s[2], Cg = C / groups, N = Cg * HW;
        MemorySegment ys = y.segment(), ms = mean.segment(), rs = rstd.segment(), xs = x.segment();
        float[] ga = gamma.toArray(), be = beta.toArray();
        d.parallelFor(s[0] * groups, bg -> {
            long base = (long) bg * N;   // group (b, g) starts at (b*C + g*Cg)*HW = bg*N
            float[] xa = new float[N];
            MemorySegment.copy(xs, F, 4 * base, xa, 0, N);
            double sum = 0;
            for (int i = 0; i < N; i++) sum += xa[i];
            double mu = sum / N, ss = 0;
            for (int i = 0; i < N; i++) {
                double dv = xa[i] - mu;
                ss += dv * dv;
            }
            float m = (float) mu, r = (float) (1.0 / Math.sqrt(ss / N + eps));
            ms.setAtIndex(F, bg, m);
            rs.setAtIndex(F, bg, r);
            int g = bg % groups;
            for (int cl = 0, i = 0; cl < Cg; cl++) {
                float gc = ga[g * Cg + cl], bc = be[g * Cg + cl];
                for (int e = 0; e < HW; e++, i++) {
                    float z = (xa[i] - m) * r * gc + bc;
                    xa[i] = silu ? z * sigmoid(z) : z;
                }
            }
            MemorySegment.copy(xa, 0, ys, F, 4 * base, N);
        });
    }

    static void backward(JavaDevice d, boolean silu, Tensor dx, Tensor dgamma, Tensor dbeta, Tensor dy, Tensor x,
                         Tensor gamma, Tensor beta, Tensor mean, Tensor rstd, Tensor scratch, int[] s, int groups) {
        int B = s[0], C = s[1], HW = s[2], Cg = C / groups, N = Cg * HW;
        MemorySegment dxs = dx.segment(), dys = dy.segment(), xs = x.segment(), ms = mean.segment(), rs = rstd.segment(),
                ps = scratch.segment();
        float[] gam = gamma.toArray(), bet = beta.toArray();
        d.parallelFor(B * groups, bg -> {
            int b = bg / groups, g = bg % groups;
            long base = (long) bg * N;
            float mu = ms.getAtIndex(F, bg), r = rs.getAtIndex(F, bg);
            float[] xh = new float[N], dz = new float[N];   // xhat and dL/dz of the group, computed once
            MemorySegment.copy(xs, F, 4 * base, xh, 0, N);
            MemorySegment.copy(dys, F, 4 * base, dz, 0, N);
            double s0 = 0, s1 = 0;   // sum dxhat*xhat, sum dxhat over the group
            for (int cl = 0, i = 0; cl < Cg; cl++) {
                int c = g * Cg + cl;
                float ga = gam[c], be = bet[c];
                double p0 = 0, p1 = 0;   // sum_hw dz*xhat, sum_hw dz for channel c
                for (int e = 0; e < HW; e++, i++) {
                    float h = (xh[i] - mu) * r;
                    float z = gradZ(dz[i], h, ga, be, silu);
                    xh[i] = h;
                    dz[i] = z;
                    p0 += z * h;
                    p1 += z;
                }
                ps.setAtIndex(F, (long) b * C + c, (float) p0);
                ps.setAtIndex(F, (long) B * C + (long) b * C + c, (float) p1);
                s0 += ga * p0;
                s1 += ga * p1;
            }
            float m0 = (float) (s0 / N), m1 = (float) (s1 / N);
            for (int cl = 0, i = 0; cl < Cg; cl++) {
                float ga = gam[g * Cg + cl];
                for (int e = 0; e < HW; e++, i++) dz[i] = r * (dz[i] * ga - m1 - xh[i] * m0);
            }
            MemorySegment.copy(dz, 0, dxs, F, 4 * base, N);
        });
        addParamPartials(dgamma, dbeta, scratch, B, C);
    }

    /** dgamma[c] += sum_b scratch[0, b, c], dbeta[c] += sum_b scratch[1, b, c], over b in ascending order. */
    static void addParamPartials(Tensor dgamma, Tensor dbeta, Tensor scratch, int B, int C) {
        MemorySegment dgs = dgamma.segment(), dbs = dbeta.segment(), ps = scratch.segment();
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
