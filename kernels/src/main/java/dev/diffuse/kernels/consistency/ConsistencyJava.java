package dev.diffuse.kernels.consistency;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Philox;
import dev.diffuse.runtime.Tensor;

/** Java device for consistency.cl: the same float formulas, plain loops in fixed chunks. */
final class ConsistencyJava {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final int CHUNK = 1 << 14;

    private ConsistencyJava() {}

    interface Body { void run(int from, int to); }

    private static void chunks(JavaDevice d, long n, Body body) {
        d.parallelFor((int) ((n + CHUNK - 1) / CHUNK), ch -> body.run(ch * CHUNK, (int) Math.min(n, (long) (ch + 1) * CHUNK)));
    }

    static float skip(float s, float smin, float sd) {
        float dd = s - smin, d2 = dd * dd, sd2 = sd * sd;
        return 1f - d2 / (d2 + sd2);
    }

    static float out(float s, float smin, float sd) { return (s - smin) * sd / (float) Math.sqrt(s * s + sd * sd); }

    static void perturb(JavaDevice d, Tensor out, Tensor x0, Tensor sigma, int per, long seed, long stream) {
        MemorySegment o = out.segment(), x = x0.segment(), sg = sigma.segment();
        chunks(d, out.numel(), (from, to) -> {
            float[] z = new float[to - from];
            Philox.normals(seed, stream, from, z, 0, to - from);
            for (int i = from; i < to; i++) o.setAtIndex(F, i, x.getAtIndex(F, i) + sg.getAtIndex(F, i / per) * z[i - from]);
        });
    }

    static void input(JavaDevice d, Tensor out, Tensor x, Tensor sigma, int per, float sd) {
        MemorySegment o = out.segment(), xs = x.segment(), sg = sigma.segment();
        chunks(d, out.numel(), (from, to) -> {
            for (int i = from; i < to; i++) {
                float s = sg.getAtIndex(F, i / per);
                o.setAtIndex(F, i, xs.getAtIndex(F, i) / (float) Math.sqrt(s * s + sd * sd));
            }
        });
    }

    static void combine(JavaDevice d, Tensor f, Tensor x, Tensor net, Tensor sigma, int per, float smin, float sd) {
        MemorySegment o = f.segment(), xs = x.segment(), ns = net.segment(), sg = sigma.segment();
        chunks(d, f.numel(), (from, to) -> {
            for (int i = from; i < to; i++) {
                float s = sg.getAtIndex(F, i / per);
                o.setAtIndex(F, i, skip(s, smin, sd) * xs.getAtIndex(F, i) + out(s, smin, sd) * ns.getAtIndex(F, i));
            }
        });
    }

    static void lossBackward(JavaDevice d, Tensor dNet, Tensor f, Tensor ft, Tensor sigma, int per, float smin, float sd, float scale) {
        MemorySegment o = dNet.segment(), fs = f.segment(), ts = ft.segment(), sg = sigma.segment();
        chunks(d, f.numel(), (from, to) -> {
            for (int i = from; i < to; i++)
                o.setAtIndex(F, i, out(sg.getAtIndex(F, i / per), smin, sd) * (scale * (fs.getAtIndex(F, i) - ts.getAtIndex(F, i))));
        });
    }
}
