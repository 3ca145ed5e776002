package dev.diffuse.kernels.groupnorm;

import static dev.diffuse.kernels.VectorMath.S;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;

import dev.diffuse.kernels.VectorMath;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * The Java device's fast {@link GroupNorm}: the formulas of {@link GroupNormJava} (the readable spec) over
 * {@link FloatVector} lanes, reading and writing the tensors' memory in place, with no allocation per call.
 * One task per (b, g): the group's N = Cg*H*W floats are read from memory once and then re-read from L1/L2 (a
 * group of the U-Nets is 6-32 KB), so a call moves about the compulsory bytes.
 * <ul>
 *   <li>Forward: pass 1 sums x - x_0, pass 2 sums (x - mu)^2 (no cancellation for large means), pass 3
 *   writes y = act(fma((x - mu) rstd, gamma_c, beta_c)) channel by channel ({@link VectorMath#affineSiluForward}).</li>
 *   <li>Backward: pass 1 ({@link VectorMath#affineSiluBackward}) writes dz into dx (as scratch) and the per-channel partials
 *   sum dz*xhat, sum dz; pass 2 turns dz into dx = rstd (dz gamma - mean(dxhat) - xhat mean(dxhat xhat)) in place.</li>
 * </ul>
 * Sums: float lanes over blocks of {@link VectorMath#BLOCK} elements, each block's lanes added in lane order into a
 * double ({@link VectorMath#sum}): accurate, and fixed by the shapes alone, so the result is bit-identical from run to
 * run and for every thread count (each (b, g) is one task whatever the pool). SiLU uses {@link VectorMath}'s exp
 * (within 2 ulp), so results differ from the reference's double Math.exp by a few ulp.
 */
final class GroupNormVector {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final int L = S.length();

    private GroupNormVector() {}

    static void forward(JavaDevice d, boolean silu, Tensor y, Tensor mean, Tensor rstd, Tensor x, Tensor gamma,
                        Tensor beta, int[] s, int groups, float eps) {
        int cg = s[1] / groups, hw = s[2];
        MemorySegment ys = y.segment(), ms = mean.segment(), rs = rstd.segment(), xs = x.segment(), gs = gamma.segment(),
                bs = beta.segment();
        d.parallelFor(s[0] * groups, bg -> forwardGroup(silu, ys, ms, rs, xs, gs, bs, bg, bg % groups * cg, cg, hw, eps));
    }

    /** Group bg = (b, g) occupies elements [bg*N, (bg+1)*N) of x and y; its channels are c0 .. c0+cg-1. */
    static void forwardGroup(boolean silu, MemorySegment ys, MemorySegment ms, MemorySegment rs, MemorySegment xs,
                             MemorySegment gs, MemorySegment bs, int bg, int c0, int cg, int hw, float eps) {
        int n = cg * hw;
        long base = 4L * bg * n;
        float shift = xs.get(F, base);   // summing x - x_0: small terms, so a large mean loses no bits to float lanes
        float mu = (float) (shift + VectorMath.sum(xs, base, n, shift, false) / n);
        float r = (float) (1.0 / Math.sqrt(VectorMath.sum(xs, base, n, mu, true) / n + eps));
        ms.setAtIndex(F, bg, mu);
        rs.setAtIndex(F, bg, r);
        for (int cl = 0; cl < cg; cl++) {
            float ga = gs.getAtIndex(F, c0 + cl), be = bs.getAtIndex(F, c0 + cl);
            VectorMath.affineSiluForward(silu, ys, xs, base / 4 + (long) cl * hw, hw, mu, r, ga, be);
        }
    }

    static void backward(JavaDevice d, boolean silu, Tensor dx, Tensor dgamma, Tensor dbeta, Tensor dy, Tensor x,
                         Tensor gamma, Tensor beta, Tensor mean, Tensor rstd, Tensor scratch, int[] s, int groups) {
        int bsz = s[0], c = s[1], hw = s[2], cg = c / groups;
        MemorySegment dxs = dx.segment(), dys = dy.segment(), xs = x.segment(), ms = mean.segment(), rs = rstd.segment(),
                ps = scratch.segment(), gs = gamma.segment(), bs = beta.segment();
        d.parallelFor(bsz * groups, bg -> backwardGroup(silu, dxs, dys, xs, gs, bs, ms, rs, ps, bg, groups, bsz, c, cg, hw));
        GroupNormJava.addParamPartials(dgamma, dbeta, scratch, bsz, c);
    }

    static void backwardGroup(boolean silu, MemorySegment dxs, MemorySegment dys, MemorySegment xs, MemorySegment gs,
                              MemorySegment bs, MemorySegment ms, MemorySegment rs, MemorySegment ps, int bg, int groups,
                              int bsz, int c, int cg, int hw) {
        int b = bg / groups, c0 = bg % groups * cg, n = cg * hw;
        long base = 4L * bg * n, p0At = (long) b * c + c0, p1At = (long) bsz * c + p0At;
        float mu = ms.getAtIndex(F, bg), r = rs.getAtIndex(F, bg);
        double s0 = 0, s1 = 0;   // sum dxhat*xhat, sum dxhat over the group (dxhat = dz*gamma)
        for (int cl = 0; cl < cg; cl++) {
            float ga = gs.getAtIndex(F, c0 + cl), be = bs.getAtIndex(F, c0 + cl);
            // pass 1: dz (written into dx as scratch) and the channel's partials sum dz*xhat, sum dz (into scratch)
            VectorMath.affineSiluBackward(silu, dxs, xs, dys, base / 4 + (long) cl * hw, hw, mu, r, ga, be, ps, p0At + cl, p1At - p0At);
            s0 += ga * (double) ps.getAtIndex(F, p0At + cl);
            s1 += ga * (double) ps.getAtIndex(F, p1At + cl);
        }
        float m0 = (float) (s0 / n), m1 = (float) (s1 / n);
        for (int cl = 0; cl < cg; cl++)
            backwardChannelDx(dxs, xs, base + 4L * cl * hw, hw, mu, r, gs.getAtIndex(F, c0 + cl), m0, m1);
    }

    /** Pass 2 over one channel, in place: dx = rstd (dz gamma - m1 - xhat m0), dz read from dx (scalar tail, same bits). */
    static void backwardChannelDx(MemorySegment dxs, MemorySegment xs, long off, int hw, float mu, float r, float ga, float m0, float m1) {
        int e = 0;
        for (; e <= hw - L; e += L) {
            long o = off + 4L * e;
            FloatVector h = FloatVector.fromMemorySegment(S, xs, o, NATIVE).sub(mu).mul(r);
            FloatVector dz = FloatVector.fromMemorySegment(S, dxs, o, NATIVE);
            dz.mul(ga).sub(m1).sub(h.mul(m0)).mul(r).intoMemorySegment(dxs, o, NATIVE);
        }
        for (; e < hw; e++) {
            long o = off + 4L * e;
            float h = (xs.get(F, o) - mu) * r;
            dxs.set(F, o, (dxs.get(F, o) * ga - m1 - h * m0) * r);
        }
    }
}
