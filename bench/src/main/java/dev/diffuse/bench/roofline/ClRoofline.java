package dev.diffuse.bench.roofline;

import java.util.ArrayList;
import java.util.List;

import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.ClKernel;
import dev.diffuse.runtime.Tensor;

/**
 * {@link Roofline} of an OpenCL device with the kernels of {@code roofline.cl}: {@code fma_peak} over
 * {@value #GROUPS_PER_UNIT} work-groups of {@value #WG} per compute unit and {@code copy_f16} over working sets from
 * cache-resident to far larger than the caches, timed from launch to {@code clFinish}, the best of a few trials. One
 * figure each: the driver decides how many threads it uses (PoCL: one per core; POCL_MAX_PTHREAD_COUNT changes it).
 */
final class ClRoofline {
    static final String SRC = "dev/diffuse/bench/roofline.cl";
    static final int CHAINS = 12, LANES = 16, WG = 16, GROUPS_PER_UNIT = 32, TRIALS = 8;

    private ClRoofline() {}

    static Roofline measure(ClDevice c) {
        double fma = fmaRate(c);
        long[] sizes = Roofline.WORKING_SETS;
        long largest = Math.min(sizes[sizes.length - 1] / 2, c.info().maxAllocBytes() / 4096 * 4096);
        List<Roofline.CopyPoint> bySize = new ArrayList<>();
        try (Tensor src = Tensor.allocate(c, (int) (largest / 4)); Tensor dst = Tensor.allocate(c, (int) (largest / 4))) {
            for (long ws : sizes) {
                long half = Math.min(ws / 2, largest);
                bySize.add(new Roofline.CopyPoint(2 * half, copyRate(c, dst.view(0, (int) (half / 4)), src.view(0, (int) (half / 4)), half)));
                if (half == largest) break;
            }
        }
        return new Roofline(c.name(), new double[]{fma}, new double[]{bySize.getLast().bytesPerSecond()}, Roofline.monotone(bySize),
                "roofline.cl: " + CHAINS + " float16 fma chains per work-item, float16 copy kernel");
    }

    static double fmaRate(ClDevice c) {
        int iterations = 2048;
        long global = (long) c.info().computeUnits() * GROUPS_PER_UNIT * WG * (c.info().isGpu() ? 64 : 1);
        ClKernel k = c.kernel(SRC, "fma_peak");
        double flops = 2.0 * CHAINS * LANES * iterations * global, best = 0;
        try (Tensor out = Tensor.allocate(c, (int) global)) {
            for (int trial = 0; trial < TRIALS + 1; trial++) {
                long t0 = System.nanoTime();
                k.launch(new long[]{global}, new long[]{WG}, out, iterations, 0.999f, 1e-3f);
                c.finish();
                double secs = (System.nanoTime() - t0) / 1e9;
                if (trial > 0) best = Math.max(best, flops / secs);   // trial 0 includes the kernel's first-launch costs
            }
        }
        return best;
    }

    static double copyRate(ClDevice c, Tensor dst, Tensor src, long bytes) {
        long n = bytes / 64;
        ClKernel k = c.kernel(SRC, "copy_f16");
        int repeats = (int) Math.max(1, (64L << 20) / bytes);
        double best = 0;
        for (int trial = 0; trial < TRIALS + 1; trial++) {
            long t0 = System.nanoTime();
            for (int r = 0; r < repeats; r++) k.launch1d(n, 256, dst, src, n);
            c.finish();
            double secs = (System.nanoTime() - t0) / 1e9;
            if (trial > 0) best = Math.max(best, 2.0 * bytes * repeats / secs);
        }
        return best;
    }
}
