package dev.diffuse.tornado;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Test support: packs host arrays into one {@link FloatArray} at aligned offsets (as a pipeline lays out its tensors),
 * runs a one-graph plan once (everything in, everything out) and reads slices back.
 */
public final class TornadoTests {
    private static final AtomicInteger GRAPHS = new AtomicInteger();

    private final List<float[]> parts = new ArrayList<>();
    private final List<Integer> offsets = new ArrayList<>();
    private int size = 0;
    private FloatArray array;

    /** Reserves room for {@code data} (a copy is written at {@link #array()}); returns its offset. */
    public int put(float[] data) {
        int off = size;
        parts.add(data);
        offsets.add(off);
        size += (data.length + 15) / 16 * 16 + 16;
        return off;
    }

    /** Reserves n zeros. */
    public int zeros(int n) { return put(new float[n]); }

    /** The packed array (built on first call). */
    public FloatArray array() {
        if (array == null) {
            array = new FloatArray(Math.max(size, 16));
            for (int k = 0; k < parts.size(); k++) {
                float[] p = parts.get(k);
                for (int i = 0; i < p.length; i++) array.set(offsets.get(k) + i, p[i]);
            }
        }
        return array;
    }

    public float[] read(int offset, int n) {
        float[] r = new float[n];
        for (int i = 0; i < n; i++) r[i] = array.get(offset + i);
        return r;
    }

    /** A graph with a fresh name whose first step copies the packed array in. */
    public Tasks tasks() {
        Tasks t = new Tasks("test" + GRAPHS.incrementAndGet());
        t.graph().transferToDevice(DataTransferMode.EVERY_EXECUTION, array());
        return t;
    }

    /** Copies the packed array back and runs the plan once. */
    public void run(Tasks t) {
        t.graph().transferToHost(DataTransferMode.EVERY_EXECUTION, array());
        try (TornadoExecutionPlan p = t.plan()) {
            p.execute();
        } catch (Exception e) {
            throw e instanceof RuntimeException r ? r : new RuntimeException(e);
        }
    }
}
