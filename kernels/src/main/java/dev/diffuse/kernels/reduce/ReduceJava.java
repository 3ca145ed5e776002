package dev.diffuse.kernels.reduce;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/** Java device: fixed chunks of {@value #CHUNK} elements reduced in double in parallel, then combined in order. */
final class ReduceJava {
    static final int CHUNK = 1 << 15;

    private ReduceJava() {}

    static void reduce(JavaDevice d, Tensor out, Tensor x, Reduce.Op op, float scale) {
        MemorySegment s = x.segment();
        long n = x.numel();
        int chunks = (int) Math.max(1, (n + CHUNK - 1) / CHUNK);
        double[] part = new double[chunks];
        d.parallelFor(chunks, c -> {
            long from = (long) c * CHUNK, to = Math.min(n, from + CHUNK);
            double acc = op == Reduce.Op.MAX ? Double.NEGATIVE_INFINITY : 0;
            for (long i = from; i < to; i++) {
                double v = s.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                acc = switch (op) {
                    case SUM -> acc + v;
                    case SUM_SQUARES -> acc + v * v;
                    case MAX -> Math.max(acc, v);
                };
            }
            part[c] = acc;
        });
        double r = op == Reduce.Op.MAX ? Double.NEGATIVE_INFINITY : 0;
        for (double p : part) r = op == Reduce.Op.MAX ? Math.max(r, p) : r + p;
        out.segment().setAtIndex(ValueLayout.JAVA_FLOAT, 0, op == Reduce.Op.MAX ? (float) r : (float) (scale * r));
    }

    static void rowDot(JavaDevice d, Tensor out, Tensor a, Tensor b, int rows, int dim) {
        MemorySegment as = a.segment(), bs = b.segment(), os = out.segment();
        d.parallelFor((rows + 255) / 256, c -> {
            for (int r = c * 256; r < Math.min(rows, (c + 1) * 256); r++) {
                double acc = 0;
                for (int j = 0; j < dim; j++)
                    acc += (double) as.getAtIndex(ValueLayout.JAVA_FLOAT, (long) r * dim + j) * bs.getAtIndex(ValueLayout.JAVA_FLOAT, (long) r * dim + j);
                os.setAtIndex(ValueLayout.JAVA_FLOAT, r, (float) acc);
            }
        });
    }

    /** The plain definition in double, for tests. */
    static double reference(float[] x, Reduce.Op op) {
        double r = op == Reduce.Op.MAX ? Double.NEGATIVE_INFINITY : 0;
        for (float v : x) r = switch (op) {
            case SUM -> r + v;
            case SUM_SQUARES -> r + (double) v * v;
            case MAX -> Math.max(r, v);
        };
        return r;
    }
}
