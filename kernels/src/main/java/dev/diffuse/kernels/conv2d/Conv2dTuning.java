package dev.diffuse.kernels.conv2d;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import dev.diffuse.kernels.tuning.OpTuning;
import dev.diffuse.kernels.tuning.Shape;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.ClDeviceInfo;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.StrictMode;
import dev.diffuse.runtime.Tensor;

/**
 * Tunables of the three convolution passes. Shape: {@code B, Cin, H, W, Cout, K, S, PT, PL, PB, PR}. Parameters:
 * <pre>
 *   KERNEL=0  tiled implicit GEMM (conv2d.cl): TM, TN, TK, WM, WN with TM % WM == TN % WN == 0, WM*WN divisible by
 *             TK and TN, TM*TK and TK*TN multiples of WM*WN, WM*WN work-items and 4*TK*(TM+TN+2) bytes of local
 *             memory within the device's limits (NVIDIA's 1024 / 48 KB in strict mode); dw adds RWG (power of two)
 *   KERNEL=1  direct (conv2d_direct.cl): RM 1..16 output channels per item, VW in {4, 8, 16} lanes (4 or 8 at
 *             stride 2), RN 1..8 vectors per item, WG the work-group size along dim 0; dx (a stride-1 conv of dy
 *             dilated by the stride) needs PT, PL <= K-1; dw takes RM 1..8, VW, SPLITS 1..64 batch ranges, WG and
 *             RWG (bias reduction group, a power of two) instead of RN
 * </pre>
 * Defaults: on GPUs the tiled 64x64x16 kernels (what Diffuse always ran); on other devices the direct kernels with
 * 8 channels and the vector blocking that covers an output row in the fewest vectors.
 */
enum Conv2dTuning implements OpTuning {
    FORWARD("conv2d.forward"), BACKWARD_INPUT("conv2d.backward_input"), BACKWARD_WEIGHT("conv2d.backward_weight");

    private final String op;

    Conv2dTuning(String op) { this.op = op; }

    @Override public String op() { return op; }

    static Shape shape(Conv2d.Dims d, Conv2dSpec s) {
        return Shape.of("B", d.B(), "Cin", d.Cin(), "H", d.H(), "W", d.W(), "Cout", d.Cout(), "K", d.K(), "S", s.stride(),
                "PT", s.padTop(), "PL", s.padLeft(), "PB", s.padBottom(), "PR", s.padRight());
    }

    static Conv2dSpec spec(Shape s) {
        return new Conv2dSpec(s.get("K"), s.get("S"), s.get("PT"), s.get("PL"), s.get("PB"), s.get("PR"));
    }

    static Conv2d.Dims dims(Shape s) {
        Conv2dSpec spec = spec(s);
        return new Conv2d.Dims(s.get("B"), s.get("Cin"), s.get("H"), s.get("W"), s.get("Cout"), spec.outH(s.get("H")),
                spec.outW(s.get("W")), s.get("K"));
    }

    /** Stride of the direct kernel that runs this pass: dx runs a stride-1 conv of the dilated dy. */
    private int directStride(Conv2dSpec s) { return this == BACKWARD_INPUT ? 1 : s.stride(); }

    /** Output row length the direct kernel vectorises over: OW, or W for dx. */
    private int row(Conv2d.Dims d) { return this == BACKWARD_INPUT ? d.W() : d.OW(); }

    private boolean directPossible(Conv2d.Dims d, Conv2dSpec s) {
        if (s.stride() > 2) return false;
        return this != BACKWARD_INPUT || (s.padTop() <= d.K() - 1 && s.padLeft() <= d.K() - 1);
    }

    @Override
    public Map<String, Integer> defaults(Shape shape, ClDeviceInfo device) {
        Conv2d.Dims d = dims(shape);
        Conv2dSpec s = spec(shape);
        if (device.isGpu() || !directPossible(d, s)) return Conv2dCl.DEFAULT_TILED;
        int[] v = bestVectors(row(d), directStride(s));
        if (this == BACKWARD_WEIGHT) {
            int rm = 2, items = d.Cin() * Conv2dCl.ceilDiv(d.Cout(), rm);
            int splits = Math.min(d.B(), Math.max(1, Conv2dCl.ceilDiv(8 * device.computeUnits(), items)));
            return direct("RM", rm, "VW", bestVectors(d.OW(), s.stride())[0], "SPLITS", splits, "RWG", 64, "WG", CPU_WG);
        }
        return direct("RM", 8, "VW", v[0], "RN", v[1], "WG", CPU_WG);
    }

    /** Work-group of the direct kernels on CPUs: each item is already a SIMD register block, so small groups. */
    static final int CPU_WG = 8;

    /** (VW, RN) covering {@code row} pixels with the fewest vectors, then the least padding, then the widest block. */
    static int[] bestVectors(int row, int stride) {
        int[] best = null;
        long bestCost = Long.MAX_VALUE;
        for (int vw : stride == 1 ? new int[]{16, 8, 4} : new int[]{8, 4})
            for (int rn : new int[]{1, 2, 4}) {
                int block = vw * rn, blocks = Conv2dCl.ceilDiv(row, block);
                // lexicographic: vectors per row, then padded pixels, then fewer vectors per item (rn)
                long cost = (long) blocks * rn * 1_000_000_000L + (long) blocks * block * 10 + rn;
                if (cost < bestCost) {
                    bestCost = cost;
                    best = new int[]{vw, rn};
                }
            }
        return best;
    }

    private static Map<String, Integer> direct(Object... kv) {
        Map<String, Integer> p = new TreeMap<>();
        p.put("KERNEL", 1);
        for (int i = 0; i < kv.length; i += 2) p.put((String) kv[i], (Integer) kv[i + 1]);
        return p;
    }

    private static final Conv2dCl.Tuning[] TILES = {Conv2dCl.TUNING, new Conv2dCl.Tuning(16, 16, 16, 4, 4, 256),
            new Conv2dCl.Tuning(16, 64, 16, 4, 16, 256), new Conv2dCl.Tuning(32, 64, 16, 8, 16, 256),
            new Conv2dCl.Tuning(32, 32, 8, 8, 8, 256), new Conv2dCl.Tuning(64, 32, 16, 16, 8, 256),
            new Conv2dCl.Tuning(128, 64, 16, 16, 16, 256), new Conv2dCl.Tuning(64, 128, 16, 16, 16, 256)};

    @Override
    public List<Map<String, Integer>> candidates(Shape shape, ClDeviceInfo device) {
        Conv2d.Dims d = dims(shape);
        Conv2dSpec s = spec(shape);
        Set<Map<String, Integer>> out = new LinkedHashSet<>();
        out.add(defaults(shape, device));
        List<Map<String, Integer>> direct = new ArrayList<>();
        if (directPossible(d, s)) {
            if (this == BACKWARD_WEIGHT) {
                int[] vws = s.stride() == 1 ? new int[]{16, 8, 4} : new int[]{8, 4};
                Map<String, Integer> base = defaults(shape, device);
                int splits = base.get("KERNEL") == 1 ? base.get("SPLITS") : 1;
                int wg = device.isGpu() ? 64 : CPU_WG;
                for (int rm : new int[]{2, 1, 4})
                    for (int vw : vws)
                        for (int sp : new int[]{splits, Math.min(d.B(), 4 * splits)})
                            direct.add(direct("RM", rm, "VW", vw, "SPLITS", sp, "RWG", 64, "WG", wg));
                direct.add(direct("RM", 2, "VW", vws[0], "SPLITS", splits, "RWG", 16, "WG", wg));
                direct.add(direct("RM", 2, "VW", vws[0], "SPLITS", splits, "RWG", 256, "WG", wg));
                direct.add(direct("RM", 2, "VW", vws[0], "SPLITS", splits, "RWG", 64, "WG", device.isGpu() ? 128 : 1));
            } else {
                int[] wgs = device.isGpu() ? new int[]{64, 128} : new int[]{CPU_WG, 32};
                for (int rm : new int[]{8, 4, 16})
                    for (int[] v : new int[][]{{16, 1}, {16, 2}, {8, 1}, {8, 2}, {8, 4}, {4, 2}})
                        for (int wg : wgs)
                            if ((directStride(s) == 1 || v[0] <= 8) && v[0] * v[1] <= 2 * Math.max(row(d), 8))
                                direct.add(direct("RM", rm, "VW", v[0], "RN", v[1], "WG", wg));
            }
        }
        List<Map<String, Integer>> tiled = new ArrayList<>();
        for (Conv2dCl.Tuning t : TILES) tiled.add(Conv2dCl.tiled(t));
        if (this == BACKWARD_WEIGHT)
            for (int rwg : new int[]{64, 16}) tiled.add(Conv2dCl.tiled(new Conv2dCl.Tuning(64, 64, 16, 16, 16, rwg)));
        if (device.isGpu()) {
            out.addAll(tiled);
            out.addAll(direct);
        } else {
            out.addAll(direct);
            out.addAll(tiled);
        }
        List<Map<String, Integer>> legal = new ArrayList<>();
        for (Map<String, Integer> p : out) if (illegal(p, shape, device) == null) legal.add(p);
        return legal;
    }

    @Override
    public String illegal(Map<String, Integer> p, Shape shape, ClDeviceInfo device) {
        Conv2d.Dims d = dims(shape);
        Conv2dSpec s = spec(shape);
        Integer kernel = p.get("KERNEL");
        if (kernel == null || (kernel != 0 && kernel != 1)) return "KERNEL must be 0 (tiled) or 1 (direct)";
        if (kernel == 0) {
            for (String k : new String[]{"TM", "TN", "TK", "WM", "WN"}) if (p.get(k) == null) return "missing " + k;
            Conv2dCl.Tuning t;
            String why = Conv2dCl.Tuning.illegal(p.get("TM"), p.get("TN"), p.get("TK"), p.get("WM"), p.get("WN"), p.getOrDefault("RWG", 256));
            if (why != null) return why;
            t = Conv2dCl.Tuning.of(p);
            if ((long) t.wm() * t.wn() > StrictMode.maxWorkGroup(device) || t.rwg() > StrictMode.maxWorkGroup(device))
                return "work-group over the device limit " + StrictMode.maxWorkGroup(device);
            if (t.localBytes() > StrictMode.maxLocalMemBytes(device))
                return t.localBytes() + " bytes of local memory exceed " + StrictMode.maxLocalMemBytes(device);
            return null;
        }
        if (!directPossible(d, s)) return "no direct kernel for stride " + s.stride() + (this == BACKWARD_INPUT ? " dx with padding over K-1" : "");
        Integer rm = p.get("RM"), vw = p.get("VW");
        if (rm == null || vw == null) return "missing RM or VW";
        if (vw != 4 && vw != 8 && vw != 16) return "VW must be 4, 8 or 16";
        if (directStride(s) == 2 && vw == 16) return "VW 16 needs stride 1";
        if (this == BACKWARD_WEIGHT) {
            Integer splits = p.get("SPLITS"), rwg = p.get("RWG"), wg = p.get("WG");
            if (rm < 1 || rm > 8) return "RM must be 1..8";
            if (wg == null || wg < 1 || wg > StrictMode.maxWorkGroup(device)) return "WG must be a work-group size within the device's limit";
            if (splits == null || splits < 1 || splits > 64) return "SPLITS must be 1..64";
            if (rwg == null || Integer.bitCount(rwg) != 1 || rwg > StrictMode.maxWorkGroup(device)) return "RWG must be a power of two within the device's work-group limit";
            return null;
        }
        Integer rn = p.get("RN"), wg = p.get("WG");
        if (rm < 1 || rm > 16) return "RM must be 1..16";
        if (rn == null || rn < 1 || rn > 8) return "RN must be 1..8";
        if (wg == null || wg < 1 || wg > StrictMode.maxWorkGroup(device)) return "WG must be a work-group size within the device's limit";
        return null;
    }

    @Override
    public double work(Shape shape) {
        Conv2d.Dims d = dims(shape);
        return 2.0 * d.B() * d.Cout() * d.p() * d.Cin() * d.kk();
    }

    /** Runs this pass with explicit parameters. */
    void run(ClDevice c, Map<String, Integer> p, Tensor y, Tensor x, Tensor w, Tensor b, Tensor dy, Tensor dx, Tensor dw,
             Tensor db, Conv2d.Dims d, Conv2dSpec s) {
        boolean direct = p.get("KERNEL") == 1;
        switch (this) {
            case FORWARD -> {
                if (direct) Conv2dDirect.forward(c, y, x, w, b, d, s, p);
                else Conv2dCl.forward(c, y, x, w, b, d, s, Conv2dCl.Tuning.of(p));
            }
            case BACKWARD_INPUT -> {
                if (direct) Conv2dDirect.backwardInput(c, dx, dy, w, d, s, p);
                else Conv2dCl.backwardInput(c, dx, dy, w, d, s, Conv2dCl.Tuning.of(p));
            }
            case BACKWARD_WEIGHT -> {
                if (direct) Conv2dDirect.backwardWeight(c, dw, db, dy, x, d, s, p);
                else Conv2dCl.backwardWeight(c, dw, db, dy, x, d, s, Conv2dCl.Tuning.of(p));
            }
        }
    }

    @Override
    public Trial trial(ClDevice c, Shape shape) {
        Conv2d.Dims d = dims(shape);
        Conv2dSpec s = spec(shape);
        JavaDevice j = JavaDevice.get();
        Tensor[] cl = tensors(c, d), jv = tensors(j, d);
        Conv2d.forward(jv[0], jv[1], jv[2], jv[3], s);
        Conv2d.backward(jv[5], jv[6], jv[7], jv[4], jv[1], jv[2], s);
        float[] ref = switch (this) {
            case FORWARD -> jv[0].toArray();
            case BACKWARD_INPUT -> jv[5].toArray();
            case BACKWARD_WEIGHT -> OpTuning.concat(jv[6].toArray(), jv[7].toArray());
        };
        for (Tensor t : jv) t.close();
        return new Trial() {
            @Override
            public void run(Map<String, Integer> p) {
                if (Conv2dTuning.this == BACKWARD_WEIGHT) {
                    cl[6].upload(new float[(int) cl[6].numel()]);
                    cl[7].upload(new float[(int) cl[7].numel()]);
                }
                Conv2dTuning.this.run(c, p, cl[0], cl[1], cl[2], cl[3], cl[4], cl[5], cl[6], cl[7], d, s);
            }

            @Override
            public float[] output() {
                return switch (Conv2dTuning.this) {
                    case FORWARD -> cl[0].toArray();
                    case BACKWARD_INPUT -> cl[5].toArray();
                    case BACKWARD_WEIGHT -> OpTuning.concat(cl[6].toArray(), cl[7].toArray());
                };
            }

            @Override public float[] reference() { return ref; }

            @Override
            public void close() { for (Tensor t : cl) t.close(); }
        };
    }

    /** y, x, w, b, dy, dx, dw, db of {@code d} on {@code dev}, inputs drawn from fixed Philox streams (same on every device). */
    private static Tensor[] tensors(dev.diffuse.runtime.Device dev, Conv2d.Dims d) {
        Tensor y = Tensor.allocate(dev, d.B(), d.Cout(), d.OH(), d.OW()), x = Tensor.allocate(dev, d.B(), d.Cin(), d.H(), d.W());
        Tensor w = Tensor.allocate(dev, d.Cout(), d.Cin(), d.K(), d.K()), b = Tensor.allocate(dev, d.Cout());
        Tensor dy = Tensor.allocate(dev, d.B(), d.Cout(), d.OH(), d.OW()), dx = Tensor.allocate(dev, d.B(), d.Cin(), d.H(), d.W());
        Tensor dw = Tensor.allocate(dev, d.Cout(), d.Cin(), d.K(), d.K()), db = Tensor.allocate(dev, d.Cout());
        Rng.fillNormal(x, 11, 0);
        Rng.fillNormal(w, 11, 1, 0, 0f, (float) (1 / Math.sqrt(d.Cin() * d.kk())));
        Rng.fillNormal(b, 11, 2);
        Rng.fillNormal(dy, 11, 3);
        return new Tensor[]{y, x, w, b, dy, dx, dw, db};
    }
}
