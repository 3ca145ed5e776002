package dev.diffuse.kernels.lookup;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.Tensor;

/** Java reference for {@link Lookup}: plain loops (the tensors are tiny: B x D with D the time-embedding width). */
final class LookupJava {
    static final String SRC = "dev/diffuse/kernels/lookup.cl";
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private LookupJava() {}

    static void addRows(JavaDevice d, Tensor out, Tensor table, Tensor labels, int b, int dim, int k) {
        MemorySegment o = out.segment(), t = table.segment(), l = labels.segment();
        for (int i = 0; i < b; i++) {
            int c = (int) l.getAtIndex(F, i);
            if (c < 0 || c >= k) continue;
            for (int j = 0; j < dim; j++)
                o.setAtIndex(F, (long) i * dim + j, o.getAtIndex(F, (long) i * dim + j) + t.getAtIndex(F, (long) c * dim + j));
        }
    }

    static void addRowsBackward(JavaDevice d, Tensor dtable, Tensor dout, Tensor labels, int b, int dim, int k) {
        MemorySegment dt = dtable.segment(), g = dout.segment(), l = labels.segment();
        for (int c = 0; c < k; c++) {
            for (int j = 0; j < dim; j++) {
                float acc = 0f;
                boolean any = false;
                for (int i = 0; i < b; i++)
                    if ((int) l.getAtIndex(F, i) == c) { acc += g.getAtIndex(F, (long) i * dim + j); any = true; }
                if (any) dt.setAtIndex(F, (long) c * dim + j, dt.getAtIndex(F, (long) c * dim + j) + acc);
            }
        }
    }
}
