package dev.diffuse.tornado.kernels;

import dev.diffuse.kernels.conv2d.Conv2dSpec;
import static dev.diffuse.tornado.kernels.TileGemm.RM;
import static dev.diffuse.tornado.kernels.TileGemm.RN;
import static dev.diffuse.tornado.kernels.TileGemm.TK;
import static dev.diffuse.tornado.kernels.TileGemm.TM;
import static dev.diffuse.tornado.kernels.TileGemm.TM1;
import static dev.diffuse.tornado.kernels.TileGemm.TN;
import static dev.diffuse.tornado.kernels.TileGemm.TN1;
import static dev.diffuse.tornado.kernels.TileGemm.WG;
import static dev.diffuse.tornado.kernels.TileGemm.WM;
import static dev.diffuse.tornado.kernels.TileGemm.WN;

import dev.diffuse.tornado.Tasks;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * 2-D convolution forward for TornadoVM (KernelContext API), the same implicit GEMM as {@code conv2d_forward} in
 * {@code conv2d.cl} so that the two compare code generation, not algorithms:
 * <pre>
 *   y[b,co,oh,ow] = bias[co] + sum_{ci,kh,kw} w[co,ci,kh,kw] x[b,ci, oh*S+kh-P, ow*S+kw-P]   (zero outside x)
 *   C[M,N] = A[M,K] B[K,N] with M = Cout, N = B*OH*OW, K = Cin*KH*KW, A = w, B = x gathered on the fly
 * </pre>
 * A work-group of WN x WM = 16 x 16 items computes a TM x TN = 64 x 64 tile of C; each K step stages a TM x TK slice
 * of w and a TK x TN slice of the gathered x in local memory ([TK][T+1], the +1 keeps transposed stores off one bank)
 * and every item accumulates an RM x RN = 4 x 4 register block (a private array). Epilogue: + bias[co], optionally
 * + e[b, co] (the resnet's time-embedding projection, {@code extra}) and + r[b, co, oh, ow] (a residual, {@code res}),
 * which fuses conv1 + broadcast add and conv2 + skip add of a resnet into one pass each.
 *
 * <p>Padding: diffusers' asymmetric downsample padding (0 above/left, 1 below/right) and the symmetric one only differ in
 * (P, OH, OW): the pad below/right enters through OH, OW (which the launcher computes with {@link Conv2dSpec}), so one
 * pad P = top = left suffices. Weights (and bias) are read from the parameter array {@code par}, activations from
 * {@code act}; every tensor is an element offset into its array.
 */
public final class Conv2dTornado {

    private Conv2dTornado() {}

    public static void forwardKernel(KernelContext kc, FloatArray act, FloatArray par, int y, int x, int w, int bias,
                                     int extra, int extraStride, int res, int nb, int cin, int h, int wd, int cout, int oh, int ow,
                                     int k, int s, int pad) {
        int tx = kc.localIdx, ty = kc.localIdy, lid = ty * WN + tx;
        int n0 = kc.groupIdx * TN, m0 = kc.groupIdy * TM;
        int kk2 = k * k, p = oh * ow, bigN = nb * p, bigK = cin * kk2;
        float[] as = kc.allocateFloatLocalArray(TK * TM1);
        float[] bs = kc.allocateFloatLocalArray(TK * TN1);
        float[] acc = new float[RM * RN];
        for (int i = 0; i < RM * RN; i++) acc[i] = 0f;
        for (int k0 = 0; k0 < bigK; k0 += TK) {
            // A slice: element e = lid + r WG is (row m = e / TK, column kq = e % TK): a weight row is contiguous in k
            for (int r = 0; r < TM * TK / WG; r++) {
                int e = lid + r * WG, mq = e / TK, kq = e - mq * TK;
                int gm = m0 + mq, gk = k0 + kq;
                as[kq * TM1 + mq] = gm < cout && gk < bigK ? par.get(w + gm * bigK + gk) : 0f;
            }
            // B slice: element e is (kq = e / TN, column nq = e % TN): consecutive items read consecutive output pixels
            for (int r = 0; r < TK * TN / WG; r++) {
                int e = lid + r * WG, kq = e / TN, nq = e - kq * TN;
                int gk = k0 + kq, gn = n0 + nq;
                float v = 0f;
                if (gk < bigK && gn < bigN) {
                    int ci = gk / kk2, rk = gk - ci * kk2, kh = rk / k, kw = rk - kh * k;
                    int b = gn / p, pq = gn - b * p, ohq = pq / ow, owq = pq - ohq * ow;
                    int ih = ohq * s + kh - pad, iw = owq * s + kw - pad;
                    if (ih >= 0 && ih < h && iw >= 0 && iw < wd) v = act.get(x + ((b * cin + ci) * h + ih) * wd + iw);
                }
                bs[kq * TN1 + nq] = v;
            }
            kc.localBarrier();
            for (int kq = 0; kq < TK; kq++) {   // see TileGemm: written out, not a helper
                for (int i = 0; i < RM; i++) {
                    float a = as[kq * TM1 + ty + i * WM];
                    for (int j = 0; j < RN; j++) acc[i * RN + j] += a * bs[kq * TN1 + tx + j * WN];
                }
            }
            kc.localBarrier();
        }
        for (int i = 0; i < RM; i++) {
            int m = m0 + ty + i * WM;
            for (int j = 0; j < RN; j++) {
                int n = n0 + tx + j * WN;
                if (m < cout && n < bigN) {
                    int b = n / p, pq = n - b * p, o = (b * cout + m) * p + pq;
                    float v = acc[i * RN + j] + par.get(bias + m);
                    if (extra >= 0) v += act.get(extra + b * extraStride + m);
                    if (res >= 0) v += act.get(res + o);
                    act.set(y + o, v);
                }
            }
        }
    }

    /** y = conv(x, w) + bias: {@link #forward(Tasks, FloatArray, FloatArray, int, int, int, int, int, int, int, int, int, int, int, int, Conv2dSpec)} without epilogue. */
    public static void forward(Tasks t, FloatArray act, FloatArray par, int y, int x, int w, int bias,
                               int nb, int cin, int h, int wd, int cout, Conv2dSpec spec) {
        forward(t, act, par, y, x, w, bias, -1, 0, -1, nb, cin, h, wd, cout, spec);
    }

    /**
     * y = conv(x, w) + bias [+ e[b, co] at {@code extra + b extraStride + co}] [+ r at {@code res}] ({@code extra},
     * {@code res} &lt; 0: none). x (nb, cin, h, wd) and y (nb, cout, OH, OW) in {@code act}; w (cout, cin, K, K) and
     * bias in {@code par}.
     */
    public static void forward(Tasks t, FloatArray act, FloatArray par, int y, int x, int w, int bias, int extra, int extraStride,
                               int res, int nb, int cin, int h, int wd, int cout, Conv2dSpec spec) {
        if (spec.padTop() != spec.padLeft())
            throw new IllegalArgumentException("conv2d (TornadoVM): top and left padding must be equal, got " + spec
                    + "; diffusers' convolutions (same, downsample with padding 0 or 1, 1x1) all have them equal");
        int oh = spec.outH(h), ow = spec.outW(wd);
        String id = t.name("conv2d_" + spec.kernel() + "x" + spec.kernel() + "s" + spec.stride());
        t.graph().task(id, Conv2dTornado::forwardKernel, new KernelContext(), act, par, y, x, w, bias, extra, extraStride, res,
                nb, cin, h, wd, cout, oh, ow, spec.kernel(), spec.stride(), spec.padTop());
        long n = (long) nb * oh * ow;
        t.grid(id, Tasks.grid2d((n + TN - 1) / TN * WN, (long) (cout + TM - 1) / TM * WM, WN, WM));
    }
}
