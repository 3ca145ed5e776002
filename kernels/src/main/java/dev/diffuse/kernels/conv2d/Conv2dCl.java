package dev.diffuse.kernels.conv2d;

import java.util.Map;
import java.util.TreeMap;

import dev.diffuse.kernels.tuning.Tunings;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.ClKernel;
import dev.diffuse.runtime.Tensor;

/**
 * OpenCL launcher for {@link Conv2d}. Each of forward, dx and dw asks {@link Tunings} for its parameters
 * ({@link Conv2dTuning}): {@code KERNEL=0} runs the tiled implicit-GEMM kernels of conv2d.cl (local-memory tiles, the
 * GPU shape) sized by a {@link Tuning}, {@code KERNEL=1} the direct kernels of conv2d_direct.cl ({@link Conv2dDirect},
 * register blocks of explicit vectors, the CPU shape).
 */
final class Conv2dCl {
    static final String SRC = "dev/diffuse/kernels/conv2d.cl";

    /**
     * Tile sizes: output tile tm x tn, K step tk, work-group wm x wn (each item an (tm/wm) x (tn/wn) register block);
     * rwg is the bias-reduction group. The same record gives the -D defines and the launch sizes.
     */
    record Tuning(int tm, int tn, int tk, int wm, int wn, int rwg) {
        Tuning {
            String why = illegal(tm, tn, tk, wm, wn, rwg);
            if (why != null) throw new IllegalArgumentException("conv2d tuning (" + tm + ", " + tn + ", " + tk + ", " + wm + ", " + wn + "): " + why);
        }

        /** Why these tiles cannot compile, or null. */
        static String illegal(int tm, int tn, int tk, int wm, int wn, int rwg) {
            int wg = wm * wn;
            if (tm <= 0 || tn <= 0 || tk <= 0 || wm <= 0 || wn <= 0) return "sizes must be positive";
            if (tm % wm != 0 || tn % wn != 0 || wg % tk != 0 || wg % tn != 0 || tm * tk % wg != 0 || tk * tn % wg != 0)
                return "need tm % wm == 0, tn % wn == 0, wm*wn divisible by tk and tn, tm*tk and tk*tn multiples of wm*wn";
            if (Integer.bitCount(rwg) != 1) return "rwg must be a power of two, got " + rwg;
            return null;
        }

        /** From tuning parameters TM, TN, TK, WM, WN (and RWG, default 256). */
        static Tuning of(Map<String, Integer> p) {
            return new Tuning(p.get("TM"), p.get("TN"), p.get("TK"), p.get("WM"), p.get("WN"), p.getOrDefault("RWG", 256));
        }

        Map<String, Integer> defines() {
            return Map.of("TM", tm, "TN", tn, "TK", tk, "WM", wm, "WN", wn, "RWG", rwg);
        }

        /** Bytes of local memory of the GEMM kernels: two [TK][T+1] float tiles. */
        long localBytes() { return 4L * tk * (tm + 1 + tn + 1); }

        long[] local() { return new long[]{wn, wm}; }

        long[] global(int m, int n) { return new long[]{(long) ceilDiv(n, tn) * wn, (long) ceilDiv(m, tm) * wm}; }
    }

    /** 64x64 tiles, K step 16, 16x16 = 256 work-items with 4x4 register blocks (8 KB local memory per group). */
    static final Tuning TUNING = new Tuning(64, 64, 16, 16, 16, 256);
    /** The same as tuning parameters (KERNEL=0: tiled). */
    static final Map<String, Integer> DEFAULT_TILED = tiled(TUNING);
    /** Split-K for dw: aim for this many work-groups (2 per SM on a 132-SM H100)... */
    static final int TARGET_GROUPS = 264;
    /** ...but give every split at least this many K elements (pixels x batch). */
    static final int MIN_K_PER_SPLIT = 256;
    static final int MAX_SPLITS = 64;

    private Conv2dCl() {}

    static Map<String, Integer> tiled(Tuning t) {
        Map<String, Integer> p = new TreeMap<>(t.defines());
        p.put("KERNEL", 0);
        return p;
    }

    private static ClKernel k(ClDevice c, String name, Tuning t) { return c.kernel(SRC, name, t.defines()); }

    static void forward(ClDevice c, Tensor y, Tensor x, Tensor w, Tensor b, Conv2d.Dims d, Conv2dSpec s) {
        Map<String, Integer> p = Tunings.choose(c, Conv2dTuning.FORWARD, Conv2dTuning.shape(d, s));
        if (p.get("KERNEL") == 1) Conv2dDirect.forward(c, y, x, w, b, d, s, p);
        else forward(c, y, x, w, b, d, s, Tuning.of(p));
    }

    static void backward(ClDevice c, Tensor dx, Tensor dw, Tensor db, Tensor dy, Tensor x, Tensor w,
                         Conv2d.Dims d, Conv2dSpec s) {
        if (dx != null) {
            Map<String, Integer> p = Tunings.choose(c, Conv2dTuning.BACKWARD_INPUT, Conv2dTuning.shape(d, s));
            if (p.get("KERNEL") == 1) Conv2dDirect.backwardInput(c, dx, dy, w, d, s, p);
            else backwardInput(c, dx, dy, w, d, s, Tuning.of(p));
        }
        Map<String, Integer> p = Tunings.choose(c, Conv2dTuning.BACKWARD_WEIGHT, Conv2dTuning.shape(d, s));
        if (p.get("KERNEL") == 1) Conv2dDirect.backwardWeight(c, dw, db, dy, x, d, s, p);
        else backwardWeight(c, dw, db, dy, x, d, s, Tuning.of(p));
    }

    static void forward(ClDevice c, Tensor y, Tensor x, Tensor w, Tensor b, Conv2d.Dims d, Conv2dSpec s, Tuning t) {
        k(c, "conv2d_forward", t).launch(t.global(d.Cout(), d.B() * d.p()), t.local(), y, x, w, b,
                d.B(), d.Cin(), d.H(), d.W(), d.Cout(), d.OH(), d.OW(), d.K(), d.K(), s.stride(), s.padTop(), s.padLeft());
    }

    /** The tiled kernels with one tuning for dx, dw and db (tests of the tiled path). */
    static void backward(ClDevice c, Tensor dx, Tensor dw, Tensor db, Tensor dy, Tensor x, Tensor w,
                         Conv2d.Dims d, Conv2dSpec s, Tuning t) {
        if (dx != null) backwardInput(c, dx, dy, w, d, s, t);
        backwardWeight(c, dw, db, dy, x, d, s, t);
    }

    static void backwardInput(ClDevice c, Tensor dx, Tensor dy, Tensor w, Conv2d.Dims d, Conv2dSpec s, Tuning t) {
        k(c, "conv2d_backward_input", t).launch(t.global(d.Cin(), d.B() * d.hw()), t.local(), dx, dy, w,
                d.B(), d.Cin(), d.H(), d.W(), d.Cout(), d.OH(), d.OW(), d.K(), d.K(), s.stride(), s.padTop(), s.padLeft());
    }

    static void backwardWeight(ClDevice c, Tensor dw, Tensor db, Tensor dy, Tensor x, Conv2d.Dims d, Conv2dSpec s, Tuning t) {
        weightGrad(c, dw, dy, x, d, s, t);
        if (db != null) biasGrad(c, db, dy, d, t.rwg());
    }

    /** db[co] += sum dy[:, co] with one work-group of {@code rwg} items per channel. */
    static void biasGrad(ClDevice c, Tensor db, Tensor dy, Conv2d.Dims d, int rwg) {
        Tuning t = new Tuning(TUNING.tm(), TUNING.tn(), TUNING.tk(), TUNING.wm(), TUNING.wn(), rwg);
        k(c, "conv2d_backward_bias", t).launch(new long[]{(long) d.Cout() * rwg}, new long[]{rwg}, db, dy, d.B(), d.Cout(), d.p());
    }

    /** Number of K ranges dw is split into for B*OH*OW = kTotal; 1 means the GEMM adds into dw directly. */
    static int splits(int cout, int kc, long kTotal, Tuning t) {
        long tiles = (long) ceilDiv(cout, t.tm()) * ceilDiv(kc, t.tn());
        long byGroups = (TARGET_GROUPS + tiles - 1) / tiles, byK = Math.max(1, kTotal / MIN_K_PER_SPLIT);
        return (int) Math.max(1, Math.min(MAX_SPLITS, Math.min(byGroups, byK)));
    }

    private static void weightGrad(ClDevice c, Tensor dw, Tensor dy, Tensor x, Conv2d.Dims d, Conv2dSpec s, Tuning t) {
        int kc = d.Cin() * d.kk(), kTotal = Math.multiplyExact(d.B(), d.p());
        int splits = splits(d.Cout(), kc, kTotal, t);
        int kChunk = ceilDiv(ceilDiv(kTotal, splits), t.tk()) * t.tk(); // splits start on K-step boundaries
        splits = ceilDiv(kTotal, kChunk);
        long[] g2 = t.global(d.Cout(), kc), global = {g2[0], g2[1], splits};
        long[] local = {t.wn(), t.wm(), 1};
        ClKernel gemm = k(c, "conv2d_backward_weight", t);
        if (splits == 1) {
            gemm.launch(global, local, dw, dy, x, d.B(), d.Cin(), d.H(), d.W(), d.Cout(), d.OH(), d.OW(), d.K(), d.K(),
                    s.stride(), s.padTop(), s.padLeft(), kChunk, 1);
            return;
        }
        int count = d.Cout() * kc;
        // Freed on close once the queued kernels using it are done (OpenCL defers the release).
        try (Tensor partial = Tensor.allocate(c, splits, count)) {
            gemm.launch(global, local, partial, dy, x, d.B(), d.Cin(), d.H(), d.W(), d.Cout(), d.OH(), d.OW(), d.K(), d.K(),
                    s.stride(), s.padTop(), s.padLeft(), kChunk, 0);
            k(c, "conv2d_reduce_splits", t).launch1d(count, 256, dw, partial, splits, count);
        }
    }

    static int ceilDiv(int a, int b) { return (a + b - 1) / b; }
}
