package dev.diffuse.samplers.diffusers;

import java.util.ArrayList;
import java.util.List;

/**
 * diffusers' set_timesteps tables (spec §6.3), descending. N = num_train_timesteps, S = inference steps.
 * <ul>
 *   <li>leading: r = N / S (integer); (S-1) r, ..., r, 0, plus steps_offset. N = 1000, S = 50: 980, 960, ..., 0.
 *   <li>trailing: numpy's {@code round(arange(N, 0, -N/S)) - 1} with arange's own arithmetic: K = ceil(N / r) entries
 *       v_k = N + k ((N - r) - N), rounded half to even. S = 16: 999, 937, 874, .... For some S (61, 103, 121, ...) N / r
 *       is slightly above S, so K = S + 1 and the table ends in -1; {@link #trailing} returns that table as numpy does
 *       and {@link #hasTrailingQuirk} says when.
 *   <li>linspace: {@code round(linspace(0, N-1, S))} reversed (half to even). S = 50: 999, 979, 958, 938, ....
 * </ul>
 */
public final class Timesteps {
    private Timesteps() {}

    static void check(int n, int s) {
        if (s < 1 || s > n)
            throw new IllegalArgumentException("num_inference_steps must be in 1.." + n + " (num_train_timesteps), got " + s);
    }

    public static int[] of(SchedulerConfig.Spacing spacing, int n, int s, int stepsOffset) {
        return switch (spacing) {
            case LEADING -> leading(n, s, stepsOffset);
            case TRAILING -> trailing(n, s);
            case LINSPACE -> linspace(n, s);
        };
    }

    public static int[] leading(int n, int s, int stepsOffset) {
        check(n, s);
        int r = n / s;
        int[] t = new int[s];
        for (int i = 0; i < s; i++) t[i] = (s - 1 - i) * r + stepsOffset;
        return t;
    }

    public static int[] trailing(int n, int s) {
        check(n, s);
        double r = (double) n / s;
        long k = (long) Math.ceil(n / r);
        double delta = (n - r) - n;
        List<Integer> out = new ArrayList<>();
        for (long i = 0; i < k; i++) out.add((int) Math.rint(n + i * delta) - 1);
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** True when numpy's trailing table for S has S + 1 entries (the last is -1). */
    public static boolean hasTrailingQuirk(int n, int s) { return trailing(n, s).length != s; }

    public static int[] linspace(int n, int s) {
        check(n, s);
        int[] t = new int[s];
        if (s == 1) return t; // linspace(0, N-1, 1) = [0]
        double step = (double) (n - 1) / (s - 1);
        for (int i = 0; i < s; i++) {
            double v = i == s - 1 ? n - 1 : i * step;
            t[s - 1 - i] = (int) Math.rint(v);
        }
        return t;
    }
}
