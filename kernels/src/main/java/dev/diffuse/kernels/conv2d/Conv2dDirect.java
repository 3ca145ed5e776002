package dev.diffuse.kernels.conv2d;

import java.util.Map;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Tensor;

/**
 * OpenCL launcher of the direct (CPU-shaped) kernels of conv2d_direct.cl: pad the input once, then each work-item
 * computes an RM-channel x RN*VW-pixel register block with explicit vectors. Parameters (from {@link Conv2dTuning}):
 * RM, VW, RN, WG (work-group size along dim 0) for forward and dx; RM, VW, SPLITS (batch ranges of dw), WG, RWG
 * (bias reduction group) for dw. Padded copies are scratch buffers freed after the call (OpenCL
 * defers the free until the queued kernels that use them are done).
 */
final class Conv2dDirect {
    static final String SRC = "dev/diffuse/kernels/conv2d_direct.cl";

    private Conv2dDirect() {}

    /** Padded width of an output row for blocks of {@code block} pixels. */
    static int paddedRow(int ow, int block) { return (ow + block - 1) / block * block; }

    private static Map<String, Integer> defines(Map<String, Integer> p, int k, int s, boolean bias) {
        return Map.of("RM", p.get("RM"), "VW", p.get("VW"), "RN", p.getOrDefault("RN", 1), "K", k, "S", s, "HAS_BIAS", bias ? 1 : 0);
    }

    /** xp (rows, hp, wp) = x (rows, h, w) spread {@code dil} apart and shifted by (pt, pl) into zeros. */
    private static Tensor pad(ClDevice c, Tensor x, int rows, int h, int w, int hp, int wp, int pt, int pl, int dil,
                              Map<String, Integer> defs) {
        Tensor xp = c.scratch(rows, hp, wp);
        c.kernel(SRC, "conv2d_pad", defs).launch1d((long) rows * hp, 64, xp, x, rows, h, w, hp, wp, pt, pl, dil);
        return xp;
    }

    static void forward(ClDevice c, Tensor y, Tensor x, Tensor w, Tensor b, Conv2d.Dims d, Conv2dSpec s, Map<String, Integer> p) {
        Map<String, Integer> defs = defines(p, d.K(), s.stride(), true);
        int block = p.get("VW") * p.get("RN"), owblk = paddedRow(d.OW(), block) / block;
        int wp = s.stride() * owblk * block + d.K() - 1, hp = (d.OH() - 1) * s.stride() + d.K();
        try (Tensor xp = pad(c, x, d.B() * d.Cin(), d.H(), d.W(), hp, wp, s.padTop(), s.padLeft(), 1, defs)) {
            launchForward(c, defs, p, y, xp, w, b, d.B(), d.Cin(), hp, wp, d.Cout(), d.OH(), d.OW(), owblk);
        }
    }

    /** dx: the stride-1 forward of dy dilated by the stride and padded by K-1-PT, K-1-PL, with flipped, transposed weights. */
    static void backwardInput(ClDevice c, Tensor dx, Tensor dy, Tensor w, Conv2d.Dims d, Conv2dSpec s, Map<String, Integer> p) {
        Map<String, Integer> defs = defines(p, d.K(), 1, false);
        int block = p.get("VW") * p.get("RN"), owblk = paddedRow(d.W(), block) / block;
        int wp = owblk * block + d.K() - 1, hp = d.H() - 1 + d.K();
        try (Tensor wf = c.scratch(d.Cin(), d.Cout(), d.K(), d.K());
             Tensor dyp = pad(c, dy, d.B() * d.Cout(), d.OH(), d.OW(), hp, wp, d.K() - 1 - s.padTop(), d.K() - 1 - s.padLeft(),
                     s.stride(), defs)) {
            c.kernel(SRC, "conv2d_flip", defs).launch1d(wf.numel(), 256, wf, w, d.Cout(), d.Cin());
            launchForward(c, defs, p, dx, dyp, wf, dx, d.B(), d.Cout(), hp, wp, d.Cin(), d.H(), d.W(), owblk);
        }
    }

    private static void launchForward(ClDevice c, Map<String, Integer> defs, Map<String, Integer> p, Tensor y, Tensor xp,
                                      Tensor w, Tensor bias, int b, int cin, int hp, int wp, int cout, int oh, int ow, int owblk) {
        int rm = p.get("RM");
        c.kernel(SRC, "conv2d_forward_direct", defs).launch2d((long) b * oh * owblk, (cout + rm - 1) / rm, p.get("WG"),
                y, xp, w, bias, b, cin, hp, wp, cout, oh, ow, owblk);
    }

    /** dw += sum over the batch (split into SPLITS ranges, partial sums added in order); db by the bias kernel of conv2d.cl. */
    static void backwardWeight(ClDevice c, Tensor dw, Tensor db, Tensor dy, Tensor x, Conv2d.Dims d, Conv2dSpec s,
                               Map<String, Integer> p) {
        Map<String, Integer> defs = defines(p, d.K(), s.stride(), false);
        int vw = p.get("VW"), rm = p.get("RM"), owb = paddedRow(d.OW(), vw), st = s.stride();
        int wp = st * owb + d.K() - 1, hp = (d.OH() - 1) * st + d.K();
        int bChunk = (d.B() + p.get("SPLITS") - 1) / p.get("SPLITS"), splits = (d.B() + bChunk - 1) / bChunk;
        long count = (long) d.Cout() * d.Cin() * d.kk();
        try (Tensor xp = pad(c, x, d.B() * d.Cin(), d.H(), d.W(), hp, wp, s.padTop(), s.padLeft(), 1, defs);
             Tensor dyp = pad(c, dy, d.B() * d.Cout(), d.OH(), d.OW(), d.OH(), owb, 0, 0, 1, defs);
             Tensor partial = splits > 1 ? c.scratch(splits, Math.toIntExact(count)) : null) {
            int wg = p.get("WG");
            long[] global = {(long) Conv2dCl.ceilDiv(d.Cin(), wg) * wg, (d.Cout() + rm - 1) / rm, splits};
            c.kernel(SRC, "conv2d_backward_weight_direct", defs).launch(global, new long[]{wg, 1, 1}, splits > 1 ? partial : dw, dyp, xp,
                    d.B(), d.Cin(), hp, wp, d.Cout(), d.OH(), owb, bChunk, splits > 1 ? 0 : 1);
            if (splits > 1)
                c.kernel(Conv2dCl.SRC, "conv2d_reduce_splits", Conv2dCl.Tuning.of(Conv2dCl.DEFAULT_TILED).defines())
                        .launch1d(count, 256, dw, partial, splits, Math.toIntExact(count));
        }
        if (db != null) Conv2dCl.biasGrad(c, db, dy, d, p.getOrDefault("RWG", 64));
    }
}
