package dev.diffuse.models.unet;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/**
 * Not a test: a manual profiling harness. Times forward and forward + backward of {@link UNetConfig#small()} on the
 * Java device and, with {@code -Ddiffuse.profile=1}, the per-node-kind forward/backward time (node kind + channels +
 * size). Run: java -cp ... dev.diffuse.models.unet.UNetProfile [batch] [iters]
 */
public final class UNetProfile {
    public static void main(String[] args) throws Exception {
        int batch = args.length > 0 ? Integer.parseInt(args[0]) : 64, iters = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        JavaDevice d = JavaDevice.get();
        if (args.length > 2 && args[2].equals("train")) {
            train(d, batch, iters);
            return;
        }
        try (UNet2DModel m = new UNet2DModel(UNetConfig.small(), d, batch, true);
             Tensor x = Tensor.allocate(d, batch, 1, 28, 28); Tensor t = Tensor.allocate(d, batch);
             Tensor out = Tensor.allocate(d, batch, 1, 28, 28); Tensor dOut = Tensor.allocate(d, batch, 1, 28, 28)) {
            m.initialize(1);
            x.upload(dev.diffuse.runtime.Close.randn(1, batch * 784));
            dOut.upload(dev.diffuse.runtime.Close.randn(2, batch * 784));
            float[] ts = new float[batch];
            for (int i = 0; i < batch; i++) ts[i] = (i * 37) % 1000;
            t.upload(ts);
            for (int it = 0; it < iters; it++) {
                long c0 = cpu(), t0 = System.nanoTime();
                m.forward(out, x, t);
                long c1 = cpu(), t1 = System.nanoTime();
                m.backward(dOut, null);
                long c2 = cpu(), t2 = System.nanoTime();
                System.out.printf("iter %d: forward %.0f ms (cpu %.0f), backward %.0f ms (cpu %.0f), fwd+bwd %.0f ms (cpu %.0f)%n",
                        it, (t1 - t0) / 1e6, (c1 - c0) / 1e6, (t2 - t1) / 1e6, (c2 - c1) / 1e6, (t2 - t0) / 1e6, (c2 - c0) / 1e6);
            }
            if (Boolean.getBoolean("diffuse.profile")) perNode(m, batch);
        }
    }

    /** Full Trainer steps of small(true) (q-sample, forward, MSE, backward, AdamW, EMA) on Fashion-MNIST, timed one by one. */
    static void train(JavaDevice d, int batch, int steps) throws Exception {
        var cfg = dev.diffuse.models.train.TrainConfig.defaults(steps, batch).withSeed(1).withEvery(1000, 0, 0);
        try (UNet2DModel m = new UNet2DModel(UNetConfig.small(true), d, batch, true);   // labels: class-conditional
             var tr = new dev.diffuse.models.train.Trainer(m, dev.diffuse.models.data.Datasets.open("fashion-mnist", null), cfg)) {
            m.initialize(1);
            for (int s = 1; s <= steps; s++) {
                long c0 = cpu(), t0 = System.nanoTime();
                tr.runUntil(s);
                System.out.printf("train step %d: %.0f ms (cpu %.0f)%n", s, (System.nanoTime() - t0) / 1e6, (cpu() - c0) / 1e6);
            }
        }
    }

    /** Process CPU time (all threads), ns: robust to other load on a shared machine. */
    static long cpu() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** Runs each node's forward then (in reverse) backward on its own, timing by node kind. */
    static void perNode(UNet2DModel m, int b) {
        Tape tape;
        try {
            var f = UNet2DModel.class.getDeclaredField("tape");
            f.setAccessible(true);
            tape = (Tape) f.get(m);
        } catch (ReflectiveOperationException e) { throw new IllegalStateException(e); }
        Map<String, double[]> acc = new LinkedHashMap<>();
        for (int rep = 0; rep < 2; rep++) {
            for (Node n : tape.nodes) {
                long t0 = System.nanoTime();
                n.forward(b);
                if (rep == 1) acc.computeIfAbsent(key(n), k -> new double[3])[0] += (System.nanoTime() - t0) / 1e6;
            }
            for (int k = tape.nodes.size() - 1; k >= 0; k--) {
                Node n = tape.nodes.get(k);
                Tensor[] dIns = new Tensor[n.ins().length];
                for (int i = 0; i < dIns.length; i++) dIns[i] = n.ins()[i].hasGrad ? n.ins()[i].g(b) : null;
                long t0 = System.nanoTime();
                n.backward(b, dIns);
                if (rep == 1) {
                    double[] a = acc.get(key(n));
                    a[1] += (System.nanoTime() - t0) / 1e6;
                    a[2]++;
                }
            }
        }
        double f = 0, bw = 0;
        System.out.printf("%-40s %10s %10s %6s%n", "node", "fwd ms", "bwd ms", "count");
        for (var e : acc.entrySet()) {
            double[] a = e.getValue();
            f += a[0];
            bw += a[1];
            System.out.printf("%-40s %10.1f %10.1f %6.0f%n", e.getKey(), a[0], a[1], a[2]);
        }
        System.out.printf("%-40s %10.1f %10.1f%n", "total", f, bw);
    }

    static String key(Node n) {
        return n.getClass().getSimpleName() + " in" + Arrays.toString(n.ins()[0].shape) + " out" + Arrays.toString(n.out().shape);
    }
}
