package dev.diffuse.kernels.tuning;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.TestDevices;

/** Shared check of the tuning tests: every candidate an op offers computes what the Java reference computes. */
public final class TuningChecks {
    private TuningChecks() {}

    /**
     * Runs every candidate {@code op} offers for any of {@code shapes} on the OpenCL device under test and compares
     * its outputs with the Java reference (|out - ref| <= 1e-5 max|ref| + 1e-5 |ref|). Every shape runs its defaults;
     * every other candidate runs on one shape that offers it, taken round-robin, so each kernel variant is checked
     * without compiling every (candidate, shape) pair (a PoCL compile takes seconds). Returns how many runs there were.
     */
    public static int assertEveryCandidateMatches(OpTuning op, Shape... shapes) {
        ClDevice cl = TestDevices.openCl();
        Map<Map<String, Integer>, List<Integer>> offeredBy = new LinkedHashMap<>();
        for (int i = 0; i < shapes.length; i++) {
            List<Map<String, Integer>> cands = op.candidates(shapes[i], cl.info());
            assertTrue(cands.contains(op.defaults(shapes[i], cl.info())), op.op() + ": the defaults must be a candidate");
            for (Map<String, Integer> p : cands) {
                assertNull(op.illegal(p, shapes[i], cl.info()), op.op() + " offered an illegal candidate " + p);
                offeredBy.computeIfAbsent(p, k -> new ArrayList<>()).add(i);
            }
        }
        List<List<Map<String, Integer>>> plan = new ArrayList<>();
        for (Shape s : shapes) plan.add(new ArrayList<>(List.of(op.defaults(s, cl.info()))));
        int turn = 0;
        for (var e : offeredBy.entrySet()) {
            List<Integer> where = e.getValue();
            int at = where.get(turn++ % where.size());
            if (!plan.get(at).contains(e.getKey())) plan.get(at).add(e.getKey());
        }
        int runs = 0;
        for (int i = 0; i < shapes.length; i++) {
            try (OpTuning.Trial t = op.trial(cl, shapes[i])) {
                float[] ref = t.reference();
                double scale = 0;
                for (float r : ref) scale = Math.max(scale, Math.abs(r));
                for (Map<String, Integer> p : plan.get(i)) {
                    t.run(p);
                    Close.assertClose(ref, t.output(), 1e-5 * scale, 1e-5, op.op() + " " + shapes[i] + " " + p + " on " + cl.id());
                    runs++;
                }
            }
        }
        return runs;
    }
}
