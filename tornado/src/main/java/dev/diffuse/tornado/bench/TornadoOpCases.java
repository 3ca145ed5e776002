package dev.diffuse.tornado.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import dev.diffuse.kernels.conv2d.Conv2dSpec;
import dev.diffuse.tornado.Tasks;
import dev.diffuse.tornado.kernels.AttentionTornado;
import dev.diffuse.tornado.kernels.AttentionTornado.Layout;
import dev.diffuse.tornado.kernels.Conv2dTornado;
import dev.diffuse.tornado.kernels.DiffusionTornado;
import dev.diffuse.tornado.kernels.ElementwiseTornado;
import dev.diffuse.tornado.kernels.GroupNormTornado;
import dev.diffuse.tornado.kernels.LinearTornado;
import dev.diffuse.tornado.kernels.ShapeTornado;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The TornadoVM side of the three-way comparison: for each (op, shape) of the bench module's report cases
 * ({@code bench.report.StandardCases}) that the TornadoVM kernels cover, a one-task plan over device-resident data
 * (transferred once, never read back), so that timing its executions times the kernel as the report times the Java
 * and OpenCL devices.
 */
final class TornadoOpCases {
    /** A one-task plan on resident data. */
    record Prepared(TornadoExecutionPlan plan) implements AutoCloseable {
        void run() { plan.execute(); }

        @Override public void close() throws Exception { plan.close(); }
    }

    /** Prefix of a variant row: the same report case, the TornadoVM kernel written with the KernelContext API. */
    static final String KERNEL_CONTEXT = "KernelContext variant: ";

    private TornadoOpCases() {}

    /** Key "op @ shape" (as the report prints them) to a builder of the TornadoVM plan. */
    static Map<String, java.util.function.Supplier<Prepared>> all() {
        Map<String, java.util.function.Supplier<Prepared>> m = new LinkedHashMap<>();
        for (int[] s : new int[][]{{64, 32, 28, 32}, {64, 64, 14, 64}}) {
            int b = s[0], cin = s[1], hw = s[2], cout = s[3];
            m.put("conv2d 3x3 forward @ " + b + "x" + cin + "x" + hw + "x" + hw + "->" + cout, () -> plan(
                    b * cin * hw * hw + b * cout * hw * hw, cout * cin * 9 + cout, (t, a, p) ->
                            Conv2dTornado.forward(t, a, p, b * cin * hw * hw, 0, 0, cout * cin * 9, b, cin, hw, hw, cout, Conv2dSpec.same3x3())));
        }
        int gm = 64 * 196, gn = 64, gk = 64;
        m.put("gemm NT @ " + gm + "x" + gn + "x" + gk, () -> plan(gm * gk + gm * gn, gn * gk + gn, (t, a, p) ->
                LinearTornado.forward(t, a, p, gm * gk, 0, 0, gn * gk, gm, gn, gk, false)));
        int ab = 64, ah = 1, an = 196, ad = 64, as = ab * ah * an * ad;
        m.put("attention forward @ " + ab + "x" + ah + "x" + an + "x" + ad, () -> plan(4 * as, 16, (t, a, p) ->
                AttentionTornado.forward(t, a, 3 * as, 0, as, 2 * as, ab, ah, an, ad, Layout.heads(ah, an, ad), Layout.heads(ah, an, ad),
                        (float) (1 / Math.sqrt(ad)))));
        int b = 64, c = 32, hw = 28 * 28, n = b * c * hw;
        String shape = b + "x" + c + "x28x28";
        m.put("groupnorm+silu forward @ " + shape, () -> plan(2 * n, 2 * c, (t, a, p) ->
                GroupNormTornado.forward(t, a, p, n, 0, 0, c, -1, b, c, hw, 8, 1e-5f, true)));
        m.put("silu forward @ " + shape, () -> plan(2 * n, 16, (t, a, p) -> ElementwiseTornado.silu(t, a, n, 0, n)));
        m.put(KERNEL_CONTEXT + "silu forward @ " + shape, () -> plan(2 * n, 16, (t, a, p) -> ElementwiseTornado.siluIndexed(t, a, n, 0, n)));
        m.put("upsample nearest 2x @ " + shape, () -> plan(5 * n, 16, (t, a, p) -> ShapeTornado.upsampleNearest2x(t, a, n, 0, b, c, 28, 28)));
        m.put("concat channels @ " + shape + "+same", () -> plan(4 * n, 16, (t, a, p) ->
                ShapeTornado.concatChannels(t, a, 2 * n, 0, n, b, c, c, hw)));
        m.put("add @ " + shape, () -> plan(3 * n, 16, (t, a, p) -> ElementwiseTornado.add(t, a, 2 * n, 0, n, n)));
        m.put("q_sample (eps drawn, written) @ " + shape, () -> plan(3 * n + 2 * b, 16, (t, a, p) ->
                DiffusionTornado.qSample(t, a, n, 2 * n, 0, -1, 3 * n, 3 * n + b, c * hw, n, 3, 1)));
        m.put("sampler step (z drawn) @ " + shape, () -> plan(3 * n, 16, (t, a, p) ->
                DiffusionTornado.step(t, a, 2 * n, 0, n, -1, 0.99f, -0.05f, 0f, 0.1f, n, 3, 1)));
        return m;
    }

    private interface Task { void add(Tasks t, FloatArray act, FloatArray par); }

    private static int graphs;

    /** Activations and parameters of the given sizes filled with N(0, 1/4) values, transferred once, and one task. */
    private static Prepared plan(int actSize, int parSize, Task task) {
        FloatArray act = random(actSize, 1), par = random(parSize, 2);
        Tasks t = new Tasks("bench" + (++graphs));
        t.graph().transferToDevice(DataTransferMode.FIRST_EXECUTION, act, par);
        task.add(t, act, par);
        return new Prepared(t.plan());
    }

    private static FloatArray random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        FloatArray a = new FloatArray(n);
        for (int i = 0; i < n; i++) a.set(i, (float) (0.5 * (r.nextDouble() - 0.5)));
        return a;
    }

}
