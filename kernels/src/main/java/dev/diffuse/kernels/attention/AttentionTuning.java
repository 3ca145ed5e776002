package dev.diffuse.kernels.attention;

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
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Rng;
import dev.diffuse.runtime.StrictMode;
import dev.diffuse.runtime.Tensor;

/**
 * Tunables of the attention core. Shape: {@code BH, N, D} (batch x heads, tokens, head dim). Parameters:
 * <pre>
 *   forward KERNEL=0  flash tiles of attention.cl: TY (work-group rows, 16 x TY items), RM (query rows per item),
 *                     CN (key columns per item / 16); local memory of the Q, K/V, P tiles within the device limit
 *   forward KERNEL=1  attention_direct.cl: VK in {4, 8, 16} keys per vector, RQ 1..8 query rows per item, DV in
 *                     {4, 8, 16} dividing D, WG the work-group size along the rows; needs D % 4 == 0
 *   backward KERNEL=0 BR, BC multiples of 16 (query and key tile rows), DC a multiple of 16 dividing DPAD (of 64 for
 *                     the float4 kernels when DPAD % 64 == 0); 16 x 16 items
 *   backward KERNEL=1 attention_direct.cl: VK, DV, WG as in the forward (one row per item); needs D % 4 == 0
 * </pre>
 * Defaults: the tiles of {@link AttentionCl} on GPUs; the direct kernels (VK 16, RQ 2 forward) on other devices.
 */
enum AttentionTuning implements OpTuning {
    FORWARD("attention.forward"), BACKWARD("attention.backward");

    private final String op;

    AttentionTuning(String op) { this.op = op; }

    @Override public String op() { return op; }

    /** Work-group of the direct kernels on CPUs (explicit: a driver's choice can be large enough to overflow a stack). */
    static final int CPU_WG = 8;

    static Shape shape(Tensor q) { return Shape.of("BH", q.dim(0) * q.dim(1), "N", q.dim(2), "D", q.dim(3)); }

    private static Map<String, Integer> params(Object... kv) {
        Map<String, Integer> p = new TreeMap<>();
        for (int i = 0; i < kv.length; i += 2) p.put((String) kv[i], (Integer) kv[i + 1]);
        return p;
    }

    private static int widestDivisor(int d) {
        for (int dv : new int[]{16, 8, 4}) if (d % dv == 0) return dv;
        return 0;
    }

    @Override
    public Map<String, Integer> defaults(Shape s, ClDeviceInfo device) {
        int dp = AttentionCl.dpad(s.get("D"));
        if (this == BACKWARD) {
            if (!device.isGpu() && s.get("D") % 4 == 0) return params("KERNEL", 1, "VK", 16, "DV", widestDivisor(s.get("D")), "WG", CPU_WG);
            int[] t = AttentionCl.backwardTile(dp);
            return params("KERNEL", 0, "BR", t[0], "BC", t[1], "DC", t[2]);
        }
        if (!device.isGpu() && s.get("D") % 4 == 0)
            return params("KERNEL", 1, "VK", 16, "RQ", 2, "DV", widestDivisor(s.get("D")), "WG", CPU_WG);
        int[] t = AttentionCl.forwardTile(dp);
        return params("KERNEL", 0, "TY", t[0], "RM", t[1], "CN", t[2]);
    }

    @Override
    public List<Map<String, Integer>> candidates(Shape s, ClDeviceInfo device) {
        int d = s.get("D"), dp = AttentionCl.dpad(d);
        Set<Map<String, Integer>> out = new LinkedHashSet<>();
        out.add(defaults(s, device));
        List<Map<String, Integer>> direct = new ArrayList<>(), tiled = new ArrayList<>();
        int[] wgs = device.isGpu() ? new int[]{64, 128} : new int[]{CPU_WG, 32};
        if (this == BACKWARD) {
            if (d % 4 == 0)
                for (int vk : new int[]{16, 8, 4})
                    for (int wg : wgs) direct.add(params("KERNEL", 1, "VK", vk, "DV", widestDivisor(d), "WG", wg));
            for (int[] t : new int[][]{{32, 32}, {16, 16}, {16, 32}, {32, 16}, {64, 32}, {32, 64}})
                for (int dc : new int[]{dp, 64, 32})
                    if (dc <= dp && dp % dc == 0) tiled.add(params("KERNEL", 0, "BR", t[0], "BC", t[1], "DC", dc));
        } else {
            if (d % 4 == 0) {
                for (int vk : new int[]{16, 8})
                    for (int rq : new int[]{2, 1, 4})
                        for (int wg : wgs) direct.add(params("KERNEL", 1, "VK", vk, "RQ", rq, "DV", widestDivisor(d), "WG", wg));
                direct.add(params("KERNEL", 1, "VK", 16, "RQ", 2, "DV", 4, "WG", wgs[0]));
            }
            for (int[] t : new int[][]{AttentionCl.forwardTile(dp), {16, 2, 2}, {16, 1, 2}, {16, 4, 1}, {8, 2, 2}, {8, 4, 2}, {16, 2, 4}})
                tiled.add(params("KERNEL", 0, "TY", t[0], "RM", t[1], "CN", t[2]));
        }
        out.addAll(device.isGpu() ? tiled : direct);
        out.addAll(device.isGpu() ? direct : tiled);
        List<Map<String, Integer>> legal = new ArrayList<>();
        for (Map<String, Integer> p : out) if (illegal(p, s, device) == null) legal.add(p);
        return legal;
    }

    @Override
    public String illegal(Map<String, Integer> p, Shape s, ClDeviceInfo device) {
        int d = s.get("D"), dp = AttentionCl.dpad(d);
        long maxLocal = StrictMode.maxLocalMemBytes(device), maxWg = StrictMode.maxWorkGroup(device);
        Integer kernel = p.get("KERNEL");
        if (kernel == null || (kernel != 0 && kernel != 1)) return "KERNEL must be 0 (tiles) or 1 (direct)";
        if (kernel == 1) {
            Integer vk = p.get("VK"), rq = this == FORWARD ? p.get("RQ") : Integer.valueOf(1), dv = p.get("DV"), wg = p.get("WG");
            if (vk == null || rq == null || dv == null || wg == null) return "missing VK, RQ, DV or WG";
            if (vk != 4 && vk != 8 && vk != 16) return "VK must be 4, 8 or 16";
            if (dv != 4 && dv != 8 && dv != 16 || d % dv != 0) return "DV must be 4, 8 or 16 and divide D = " + d;
            if (rq < 1 || rq > 8) return "RQ must be 1..8";
            if (wg < 1 || wg > maxWg) return "WG must be a work-group size within " + maxWg;
            return null;
        }
        if (this == BACKWARD) {
            Integer br = p.get("BR"), bc = p.get("BC"), dc = p.get("DC");
            if (br == null || bc == null || dc == null) return "missing BR, BC or DC";
            if (br <= 0 || bc <= 0 || br % 16 != 0 || bc % 16 != 0) return "BR and BC must be positive multiples of 16";
            if (dc <= 0 || dc % 16 != 0 || dp % dc != 0) return "DC must be a multiple of 16 dividing DPAD = " + dp;
            if (dp > dc && dp % 64 == 0 && dc % 64 != 0) return "with DPAD = " + dp + " the D-chunk must be a multiple of 64";
            if (256 > maxWg) return "needs 256 work-items per group";
            long bytes = Math.max(4L * (2L * bc * (dp + 1) + 2L * br * (dc + 1) + 2L * br * (bc + 1) + 2L * br),
                    4L * (2L * br * (dp + 1) + 2L * bc * (dc + 1) + (long) br * (bc + 1)));
            if (AttentionCl.v4(dp, dc)) bytes += 16L * (br + bc) * 4; // float4 row strides are 4 floats longer
            return bytes > maxLocal ? bytes + " bytes of local memory exceed " + maxLocal : null;
        }
        Integer ty = p.get("TY"), rm = p.get("RM"), cn = p.get("CN");
        if (ty == null || rm == null || cn == null) return "missing TY, RM or CN";
        if (ty <= 0 || rm <= 0 || cn <= 0) return "TY, RM, CN must be positive";
        if (16L * ty > maxWg) return "work-group 16 x " + ty + " over " + maxWg;
        long fbr = (long) ty * rm, fbc = 16L * cn;
        long bytes = dp % 64 == 0
                ? 16L * (fbr * (dp / 4 + 1) + fbc * (dp / 4 + 1) + fbr * (fbc / 4 + 1)) + 4L * fbr * 16
                : 4L * (fbr * (dp + 1) + fbc * (dp + 1) + fbr * (fbc + 1) + fbr * 16);
        return bytes > maxLocal ? bytes + " bytes of local memory exceed " + maxLocal : null;
    }

    @Override
    public double work(Shape s) {
        double f = 4.0 * s.get("BH") * s.get("N") * (double) s.get("N") * s.get("D");
        return this == FORWARD ? f : 2.5 * f;
    }

    @Override
    public Trial trial(ClDevice c, Shape s) {
        int bh = s.get("BH"), n = s.get("N"), d = s.get("D");
        float scale = (float) (1 / Math.sqrt(d));
        Tensor[] cl = tensors(c, bh, n, d), jv = tensors(JavaDevice.get(), bh, n, d);
        Attention.forward(jv[3], jv[4], jv[0], jv[1], jv[2], scale);
        if (this == BACKWARD) {
            Attention.backward(jv[6], jv[7], jv[8], jv[5], jv[0], jv[1], jv[2], jv[3], jv[4], scale);
            // the backward under test starts from the same forward outputs as the reference
            cl[3].upload(jv[3].toArray());
            cl[4].upload(jv[4].toArray());
        }
        float[] ref = this == FORWARD ? OpTuning.concat(jv[3].toArray(), jv[4].toArray())
                : OpTuning.concat(jv[6].toArray(), jv[7].toArray(), jv[8].toArray());
        for (Tensor t : jv) t.close();
        return new Trial() {
            @Override
            public void run(Map<String, Integer> p) {
                if (AttentionTuning.this == FORWARD) AttentionCl.forward(c, cl[3], cl[4], cl[0], cl[1], cl[2], scale, p);
                else AttentionCl.backward(c, cl[6], cl[7], cl[8], cl[5], cl[0], cl[1], cl[2], cl[3], cl[4], cl[9], scale, p);
            }

            @Override
            public float[] output() {
                return AttentionTuning.this == FORWARD ? OpTuning.concat(cl[3].toArray(), cl[4].toArray())
                        : OpTuning.concat(cl[6].toArray(), cl[7].toArray(), cl[8].toArray());
            }

            @Override public float[] reference() { return ref; }

            @Override public void close() { for (Tensor t : cl) t.close(); }
        };
    }

    /** q, k, v, o, lse, dO, dq, dk, dv, delta of (1, BH, N, D), inputs from fixed Philox streams. */
    private static Tensor[] tensors(Device dev, int bh, int n, int d) {
        Tensor[] t = {Tensor.allocate(dev, 1, bh, n, d), Tensor.allocate(dev, 1, bh, n, d), Tensor.allocate(dev, 1, bh, n, d),
                Tensor.allocate(dev, 1, bh, n, d), Tensor.allocate(dev, 1, bh, n), Tensor.allocate(dev, 1, bh, n, d),
                Tensor.allocate(dev, 1, bh, n, d), Tensor.allocate(dev, 1, bh, n, d), Tensor.allocate(dev, 1, bh, n, d),
                Tensor.allocate(dev, 1, bh, n)};
        for (int i = 0; i < 3; i++) Rng.fillNormal(t[i], 13, i);
        Rng.fillNormal(t[5], 13, 5);
        return t;
    }
}
