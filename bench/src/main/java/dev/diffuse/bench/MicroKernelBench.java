package dev.diffuse.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.*;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import dev.diffuse.kernels.cpu.Tiles;

/**
 * The CPU GEMM engine's inner loop on one thread, with its operands in L1/L2: one {@code mr x NR} tile over
 * {@code k} (packed A, B rows through the offset table as in a convolution; or A rows in place, as in dW), against
 * {@link #fmaPeak}, a loop of 12 independent FMA chains (the core's FMA rate with nothing else to do). FLOPs per call:
 * {@link #flops}; GFLOP/s = flops / time. This shows whether the micro-kernel is bound by the FMA units or by loads,
 * bounds checks and broadcasts.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class MicroKernelBench {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Iterations of {@link #fmaPeak}: 12 chains x this many FMAs of S.length() lanes. */
    public static final int PEAK_STEPS = 1024;

    @Param({"12", "8", "4"})
    public int mr;

    @Param({"256"})
    public int k;

    private float[] a, b, c;
    private int[] boff, aoff;

    /** FLOPs of one kernel call: 2 * mr * NR * k. */
    public static double flops(int mr, int k) { return 2.0 * mr * Tiles.NR * k; }

    /** FLOPs of one {@link #fmaPeak} call. */
    public static double peakFlops() { return 2.0 * 12 * PEAK_STEPS * S.length(); }

    @Setup
    public void setup() {
        a = new float[k * 12 + 64];
        b = new float[k * Tiles.NR + 64];
        c = new float[12 * Tiles.NR];
        for (int i = 0; i < a.length; i++) a[i] = (i % 7) * 0.01f;
        for (int i = 0; i < b.length; i++) b[i] = (i % 5) * 0.01f;
        boff = new int[k];
        for (int p = 0; p < k; p++) boff[p] = p * Tiles.NR;
        aoff = new int[12];
        for (int r = 0; r < 12; r++) aoff[r] = r * 4; // rows overlap: the bench measures speed, not values
    }

    /** Packed A, B rows at boff[k] (the forward convolution's kernel). */
    @Benchmark
    public float[] packed() {
        Tiles.packed(mr, a, 0, b, boff, 0, k, 0, c, 0, false);
        return c;
    }

    /** A rows in place, B a panel (the dW kernel). */
    @Benchmark
    public float[] rows() {
        Tiles.rows(mr, a, aoff, 0, 0, k, b, 0, Tiles.NR, c, 0, false);
        return c;
    }

    /** 12 independent FMA chains: the reachable FMA rate of one core. */
    @Benchmark
    public float fmaPeak() {
        FloatVector m = FloatVector.broadcast(S, 0.999f), d = FloatVector.broadcast(S, 1e-3f);
        FloatVector c0 = m, c1 = m, c2 = m, c3 = m, c4 = m, c5 = m, c6 = m, c7 = m, c8 = m, c9 = m, c10 = m, c11 = m;
        for (int i = 0; i < PEAK_STEPS; i++) {
            c0 = c0.fma(m, d); c1 = c1.fma(m, d); c2 = c2.fma(m, d); c3 = c3.fma(m, d);
            c4 = c4.fma(m, d); c5 = c5.fma(m, d); c6 = c6.fma(m, d); c7 = c7.fma(m, d);
            c8 = c8.fma(m, d); c9 = c9.fma(m, d); c10 = c10.fma(m, d); c11 = c11.fma(m, d);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11).lane(0);
    }
}
