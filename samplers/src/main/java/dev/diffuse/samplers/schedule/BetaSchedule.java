package dev.diffuse.samplers.schedule;

import java.util.Arrays;
import java.util.Locale;

/**
 * Discrete DDPM beta schedules, computed exactly as diffusers' DDPMScheduler/DDIMScheduler do
 * (../shared/spec/unet2d-diffusers.md §6.1): the names are diffusers' config values and are frozen.
 */
public enum BetaSchedule {
    /** float32 linspace(beta_start, beta_end, N) with PyTorch's two-sided CPU algorithm. */
    LINEAR("linear"),
    /** float32 linspace(sqrt(beta_start), sqrt(beta_end), N), squared in float32. */
    SCALED_LINEAR("scaled_linear"),
    /** Nichol and Dhariwal's cosine: beta_i = min(1 - f((i+1)/N)/f(i/N), 0.999), f(u) = cos((u+0.008)/1.008 pi/2)^2. */
    SQUAREDCOS_CAP_V2("squaredcos_cap_v2");

    private final String configName;

    BetaSchedule(String configName) { this.configName = configName; }

    public String configName() { return configName; }

    /** Accepts diffusers' names and the short forms "cosine" and "scaled-linear". */
    public static BetaSchedule byName(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        if (n.equals("cosine")) return SQUAREDCOS_CAP_V2;
        for (BetaSchedule b : values()) if (b.configName.equals(n)) return b;
        throw new IllegalArgumentException("unknown beta schedule '" + name + "': use one of "
                + Arrays.stream(values()).map(BetaSchedule::configName).toList() + " (or 'cosine')");
    }

    /** The N betas, each a float32 value (held in a double). */
    public double[] betas(int n, double betaStart, double betaEnd) {
        if (n < 2) throw new IllegalArgumentException("num_train_timesteps must be at least 2, got " + n);
        double[] b = new double[n];
        switch (this) {
            case LINEAR -> {
                float[] l = linspaceF32((float) betaStart, (float) betaEnd, n);
                for (int i = 0; i < n; i++) b[i] = l[i];
            }
            case SCALED_LINEAR -> {
                float[] l = linspaceF32((float) Math.sqrt(betaStart), (float) Math.sqrt(betaEnd), n);
                for (int i = 0; i < n; i++) b[i] = l[i] * l[i]; // squared in f32
            }
            case SQUAREDCOS_CAP_V2 -> {
                for (int i = 0; i < n; i++)
                    b[i] = (float) Math.min(1 - cosF((i + 1) / (double) n) / cosF(i / (double) n), 0.999);
            }
        }
        return b;
    }

    private static double cosF(double u) {
        double c = Math.cos((u + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    /** torch.linspace on CPU in float32: the first half counts up from start, the second half down from end. */
    static float[] linspaceF32(float start, float end, int n) {
        float step = (end - start) / (n - 1);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = i < n / 2 ? start + step * i : end - step * (n - 1 - i);
        return out;
    }
}
