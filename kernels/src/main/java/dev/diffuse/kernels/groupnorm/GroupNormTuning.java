package dev.diffuse.kernels.groupnorm;

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
 * Tunables of GroupNorm (+ fused SiLU) forward and backward. Shape: {@code B, C, HW, G, SILU}. Parameters: WG, the
 * work-group per (b, g), a power of two from 1 to the device's limit (local memory 3 WG floats forward, 2 WG
 * backward); VEC 1 or 4 (float4 loads; 4 only when HW % 4 == 0, and a launch whose tensors sit at offsets that are
 * not multiples of 4 falls back to 1). Default: {@link GroupNormCl#workGroup} (the next power of two over the
 * group's loads within [64, 256]) and VEC 4 where legal.
 */
enum GroupNormTuning implements OpTuning {
    FORWARD("groupnorm.forward"), BACKWARD("groupnorm.backward");

    private final String op;

    GroupNormTuning(String op) { this.op = op; }

    @Override public String op() { return op; }

    static Shape shape(int[] s, int groups, boolean silu) {
        return Shape.of("B", s[0], "C", s[1], "HW", s[2], "G", groups, "SILU", silu ? 1 : 0);
    }

    @Override
    public Map<String, Integer> defaults(Shape s, ClDeviceInfo device) {
        int vec = s.get("HW") % 4 == 0 ? 4 : 1;
        return Map.of("WG", GroupNormCl.workGroup(s.get("C") / s.get("G") * s.get("HW") / vec), "VEC", vec);
    }

    @Override
    public List<Map<String, Integer>> candidates(Shape s, ClDeviceInfo device) {
        Set<Map<String, Integer>> out = new LinkedHashSet<>();
        out.add(defaults(s, device));
        for (int vec : new int[]{4, 1})
            for (int wg = 1; wg <= 256; wg *= 2) out.add(Map.of("WG", wg, "VEC", vec));
        List<Map<String, Integer>> legal = new ArrayList<>();
        for (Map<String, Integer> p : out) if (illegal(p, s, device) == null) legal.add(p);
        return legal;
    }

    @Override
    public String illegal(Map<String, Integer> p, Shape s, ClDeviceInfo device) {
        Integer wg = p.get("WG"), vec = p.get("VEC");
        if (wg == null || vec == null) return "missing WG or VEC";
        if (wg < 1 || Integer.bitCount(wg) != 1 || wg > StrictMode.maxWorkGroup(device))
            return "WG must be a power of two within " + StrictMode.maxWorkGroup(device);
        if (vec != 1 && vec != 4) return "VEC must be 1 or 4";
        if (vec == 4 && s.get("HW") % 4 != 0) return "VEC 4 needs H*W % 4 == 0";
        long bytes = (this == FORWARD ? 12L : 8L) * wg;
        return bytes > StrictMode.maxLocalMemBytes(device) ? bytes + " bytes of local memory" : null;
    }

    @Override
    public double work(Shape s) {
        double n = (double) s.get("B") * s.get("C") * s.get("HW");
        return this == FORWARD ? 8 * n : 12 * n; // forward reads x, writes y; backward reads x, dy, writes dx
    }

    @Override public String unit() { return "B"; }

    @Override
    public Trial trial(ClDevice c, Shape s) {
        int b = s.get("B"), ch = s.get("C"), hw = s.get("HW"), g = s.get("G");
        boolean silu = s.get("SILU") == 1;
        Tensor[] cl = tensors(c, b, ch, hw, g), jv = tensors(JavaDevice.get(), b, ch, hw, g);
        // y, mean, rstd, x, gamma, beta, dy, dx, dgamma, dbeta, scratch
        if (silu) GroupNorm.forwardSilu(jv[0], jv[1], jv[2], jv[3], jv[4], jv[5], g, 1e-5f);
        else GroupNorm.forward(jv[0], jv[1], jv[2], jv[3], jv[4], jv[5], g, 1e-5f);
        float[] ref;
        if (this == FORWARD) {
            ref = OpTuning.concat(jv[0].toArray(), jv[1].toArray(), jv[2].toArray());
        } else {
            if (silu) GroupNorm.backwardSilu(jv[7], jv[8], jv[9], jv[6], jv[3], jv[4], jv[5], jv[1], jv[2], jv[10], g);
            else GroupNorm.backward(jv[7], jv[8], jv[9], jv[6], jv[3], jv[4], jv[5], jv[1], jv[2], jv[10], g);
            ref = OpTuning.concat(jv[7].toArray(), jv[8].toArray(), jv[9].toArray());
            cl[1].upload(jv[1].toArray());
            cl[2].upload(jv[2].toArray());
        }
        for (Tensor t : jv) t.close();
        String kernel = (silu ? "groupnorm_silu_" : "groupnorm_") + (this == FORWARD ? "forward" : "backward");
        int[] dims = {b, ch, hw};
        return new Trial() {
            @Override
            public void run(Map<String, Integer> p) {
                if (GroupNormTuning.this == FORWARD) {
                    GroupNormCl.forward(c, kernel, cl[0], cl[1], cl[2], cl[3], cl[4], cl[5], dims, g, 1e-5f, p);
                } else {
                    cl[8].upload(new float[ch]);
                    cl[9].upload(new float[ch]);
                    GroupNormCl.backward(c, kernel, cl[7], cl[8], cl[9], cl[6], cl[3], cl[4], cl[5], cl[1], cl[2], cl[10], dims, g, p);
                }
            }

            @Override
            public float[] output() {
                return GroupNormTuning.this == FORWARD ? OpTuning.concat(cl[0].toArray(), cl[1].toArray(), cl[2].toArray())
                        : OpTuning.concat(cl[7].toArray(), cl[8].toArray(), cl[9].toArray());
            }

            @Override public float[] reference() { return ref; }

            @Override public void close() { for (Tensor t : cl) t.close(); }
        };
    }

    private static Tensor[] tensors(Device dev, int b, int ch, int hw, int g) {
        Tensor[] t = {Tensor.allocate(dev, b, ch, hw, 1), Tensor.allocate(dev, b, g), Tensor.allocate(dev, b, g),
                Tensor.allocate(dev, b, ch, hw, 1), Tensor.allocate(dev, ch), Tensor.allocate(dev, ch),
                Tensor.allocate(dev, b, ch, hw, 1), Tensor.allocate(dev, b, ch, hw, 1), Tensor.allocate(dev, ch),
                Tensor.allocate(dev, ch), Tensor.allocate(dev, GroupNorm.scratchShape(b, ch))};
        Rng.fillNormal(t[3], 17, 0, 0, 0.5f, 2f);
        Rng.fillNormal(t[4], 17, 1);
        Rng.fillNormal(t[5], 17, 2);
        Rng.fillNormal(t[6], 17, 3);
        return t;
    }
}
