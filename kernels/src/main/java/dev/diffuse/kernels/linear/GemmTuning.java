package dev.diffuse.kernels.linear;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.diffuse.kernels.tuning.OpTuning;
import dev.diffuse.kernels.tuning.Shape;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.ClDeviceInfo;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.StrictMode;
import dev.diffuse.runtime.Tensor;

/**
 * Tunables of the tiled GEMM (linear.cl). Shape: {@code M, N, K, TA, TB, BIAS}. Parameters: TM x TN tile, TK K-step,
 * WM x WN outputs per work-item, with WM and WN multiples of 4 (float4 local reads), TM % WM == TN % WN == 0,
 * (TM/WM)(TN/WN) work-items and 4 TK (TM + TN + 8) bytes of local memory within the device's limits. Default:
 * {@link GemmCl#tiling} (64x64x16 with 4x4 per item; 128x64x16 with 8x4 once there are enough tiles).
 */
enum GemmTuning implements OpTuning {
    GEMM;

    @Override public String op() { return "gemm"; }

    static Shape shape(int m, int n, int k, boolean ta, boolean tb, boolean bias) {
        return Shape.of("M", m, "N", n, "K", k, "TA", ta ? 1 : 0, "TB", tb ? 1 : 0, "BIAS", bias ? 1 : 0);
    }

    static Map<String, Integer> params(GemmCl.Tiling t) {
        return Map.of("TM", t.tm(), "TN", t.tn(), "TK", t.tk(), "WM", t.wm(), "WN", t.wn());
    }

    static GemmCl.Tiling tiling(Map<String, Integer> p) {
        return new GemmCl.Tiling(p.get("TM"), p.get("TN"), p.get("TK"), p.get("WM"), p.get("WN"));
    }

    private static final GemmCl.Tiling[] CANDIDATES = {GemmCl.SMALL, GemmCl.LARGE, new GemmCl.Tiling(32, 32, 16, 4, 4),
            new GemmCl.Tiling(16, 16, 16, 4, 4), new GemmCl.Tiling(32, 64, 16, 4, 8), new GemmCl.Tiling(64, 64, 8, 8, 8),
            new GemmCl.Tiling(16, 64, 16, 4, 16), new GemmCl.Tiling(64, 16, 16, 16, 4), new GemmCl.Tiling(128, 128, 8, 8, 8),
            new GemmCl.Tiling(64, 64, 32, 4, 4)};

    @Override
    public Map<String, Integer> defaults(Shape s, ClDeviceInfo device) {
        return params(GemmCl.tiling(s.get("M"), s.get("N")));
    }

    @Override
    public List<Map<String, Integer>> candidates(Shape s, ClDeviceInfo device) {
        Set<Map<String, Integer>> out = new LinkedHashSet<>();
        out.add(defaults(s, device));
        for (GemmCl.Tiling t : CANDIDATES) out.add(params(t));
        List<Map<String, Integer>> legal = new ArrayList<>();
        for (Map<String, Integer> p : out) if (illegal(p, s, device) == null) legal.add(p);
        return legal;
    }

    @Override
    public String illegal(Map<String, Integer> p, Shape s, ClDeviceInfo device) {
        for (String k : new String[]{"TM", "TN", "TK", "WM", "WN"}) if (p.get(k) == null || p.get(k) <= 0) return k + " must be positive";
        int tm = p.get("TM"), tn = p.get("TN"), tk = p.get("TK"), wm = p.get("WM"), wn = p.get("WN");
        if (wm % 4 != 0 || wn % 4 != 0) return "WM and WN must be multiples of 4";
        if (tm % wm != 0 || tn % wn != 0) return "need TM % WM == 0 and TN % WN == 0";
        long items = (long) (tm / wm) * (tn / wn), bytes = 4L * tk * (tm + tn + 8);
        if (items > StrictMode.maxWorkGroup(device)) return items + " work-items over " + StrictMode.maxWorkGroup(device);
        if (bytes > StrictMode.maxLocalMemBytes(device)) return bytes + " bytes of local memory over " + StrictMode.maxLocalMemBytes(device);
        return null;
    }

    @Override
    public double work(Shape s) { return 2.0 * s.get("M") * s.get("N") * s.get("K"); }

    @Override
    public Trial trial(ClDevice c, Shape s) {
        int m = s.get("M"), n = s.get("N"), k = s.get("K");
        boolean ta = s.get("TA") == 1, tb = s.get("TB") == 1, bias = s.get("BIAS") == 1;
        Tensor[] cl = tensors(c, m, n, k, ta, tb), jv = tensors(JavaDevice.get(), m, n, k, ta, tb);
        Gemm.gemm(jv[0], jv[1], jv[2], bias ? jv[3] : null, ta, tb, 1f, 0f);
        float[] ref = jv[0].toArray();
        for (Tensor t : jv) t.close();
        return new Trial() {
            @Override
            public void run(Map<String, Integer> p) {
                GemmCl.gemm(c, tiling(p), cl[0], cl[1], cl[2], bias ? cl[3] : null, ta, tb, 1f, 0f, m, n, k);
            }

            @Override public float[] output() { return cl[0].toArray(); }

            @Override public float[] reference() { return ref; }

            @Override public void close() { for (Tensor t : cl) t.close(); }
        };
    }

    /** C (M, N), A, B in the stored layout of TA/TB, bias (N); inputs from fixed Philox streams. */
    private static Tensor[] tensors(Device dev, int m, int n, int k, boolean ta, boolean tb) {
        Tensor c = Tensor.allocate(dev, m, n), a = ta ? Tensor.allocate(dev, k, m) : Tensor.allocate(dev, m, k);
        Tensor b = tb ? Tensor.allocate(dev, n, k) : Tensor.allocate(dev, k, n), bias = Tensor.allocate(dev, n);
        Rng.fillNormal(a, 19, 0);
        Rng.fillNormal(b, 19, 1);
        Rng.fillNormal(bias, 19, 2);
        return new Tensor[]{c, a, b, bias};
    }
}
