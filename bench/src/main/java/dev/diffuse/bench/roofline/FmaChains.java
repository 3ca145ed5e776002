package dev.diffuse.bench.roofline;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector-API FMA rate microbenchmark's inner loop: {@value #CHAINS} independent chains c_k = c_k * a + b over
 * {@link FloatVector#SPECIES_PREFERRED}. An FMA has a latency of about 4 cycles and a core issues up to 2 per
 * cycle, so at least 8 chains must be in flight to fill both units; 12 leave slack and still fit (with a and b) in
 * the 16 vector registers of AVX2 (AVX-512 has 32). {@link #run} is small and called many times, so C2 compiles it
 * as a whole method: a single long call would stay in the interpreter or in on-stack replacement, which is slow
 * (DESIGN.md §3b, "the warm-up cliff").
 */
final class FmaChains {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int CHAINS = 12;

    private FmaChains() {}

    /** FLOPs one {@link #run} call performs: 2 per lane per FMA. */
    static double flops(int iterations) {
        return 2.0 * CHAINS * S.length() * iterations;
    }

    /**
     * Runs {@code iterations} rounds of {@value #CHAINS} vector FMAs and returns a value that depends on all of them
     * (so the JIT cannot drop the work). a = 0.999, b = 1e-3 keep every chain finite and away from denormals.
     */
    static float run(int iterations, float seed) {
        FloatVector a = FloatVector.broadcast(S, 0.999f), b = FloatVector.broadcast(S, 1e-3f);
        FloatVector c0 = FloatVector.broadcast(S, seed), c1 = c0.add(1f), c2 = c0.add(2f), c3 = c0.add(3f);
        FloatVector c4 = c0.add(4f), c5 = c0.add(5f), c6 = c0.add(6f), c7 = c0.add(7f);
        FloatVector c8 = c0.add(8f), c9 = c0.add(9f), c10 = c0.add(10f), c11 = c0.add(11f);
        for (int i = 0; i < iterations; i++) {
            c0 = c0.fma(a, b);
            c1 = c1.fma(a, b);
            c2 = c2.fma(a, b);
            c3 = c3.fma(a, b);
            c4 = c4.fma(a, b);
            c5 = c5.fma(a, b);
            c6 = c6.fma(a, b);
            c7 = c7.fma(a, b);
            c8 = c8.fma(a, b);
            c9 = c9.fma(a, b);
            c10 = c10.fma(a, b);
            c11 = c11.fma(a, b);
        }
        FloatVector s = c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11);
        return s.reduceLanes(VectorOperators.ADD);
    }
}
