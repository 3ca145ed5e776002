package dev.diffuse.samplers.diffusers;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.diffuse.samplers.diffusers.SchedulerConfig.Spacing;
import dev.diffuse.samplers.schedule.DiscreteSchedule;

/** set_timesteps tables (spec §6.3) with hand-checked values, the trailing quirk, betas and the config reader. */
class TimestepsAndConfigTest {
    @Test
    void leadingTables() {
        int[] t = Timesteps.leading(1000, 50, 0);
        assertEquals(50, t.length);
        assertArrayEquals(new int[]{980, 960, 940}, Arrays.copyOf(t, 3));
        assertEquals(20, t[48]);
        assertEquals(0, t[49]);
        assertArrayEquals(new int[]{901, 801, 701, 601, 501, 401, 301, 201, 101, 1}, Timesteps.leading(1000, 10, 1));
        assertArrayEquals(new int[]{666, 333, 0}, Timesteps.leading(1000, 3, 0)); // r = 1000 // 3 = 333
        int[] all = Timesteps.leading(1000, 1000, 0);
        assertEquals(999, all[0]);
        assertEquals(0, all[999]);
    }

    @Test
    void trailingTables() {
        // r = 62.5: 1000, 937.5, 875, 812.5, 750, 687.5, 625 -> rint half-even -> 1000, 938, 875, 812, 750, 688, 625; minus 1
        assertArrayEquals(new int[]{999, 937, 874, 811, 749, 687, 624}, Arrays.copyOf(Timesteps.trailing(1000, 16), 7));
        assertEquals(61, Timesteps.trailing(1000, 16)[15]); // 62.5 -> 62, minus 1
        // S = 48: numpy's arange gives 937.4999999999999 at k = 3 (not 937.5), so 937 - 1 = 936 (N - k r would give 937)
        int[] t48 = Timesteps.trailing(1000, 48);
        assertEquals(48, t48.length);
        assertArrayEquals(new int[]{999, 978, 957, 936, 916, 895, 874}, Arrays.copyOf(t48, 7));
        // the quirk: 1000 / (1000 / 61) > 61 in double, so 62 entries ending in -1
        int[] t61 = Timesteps.trailing(1000, 61);
        assertEquals(62, t61.length);
        assertArrayEquals(new int[]{32, 15, -1}, Arrays.copyOfRange(t61, 59, 62));
        assertArrayEquals(new int[]{999, 983, 966, 950, 933, 917, 901}, Arrays.copyOf(t61, 7));
        for (int s : new int[]{61, 103, 121, 122, 201}) assertTrue(Timesteps.hasTrailingQuirk(1000, s), "S = " + s);
        for (int s : new int[]{1, 16, 48, 50, 60, 62, 100, 1000}) assertFalse(Timesteps.hasTrailingQuirk(1000, s), "S = " + s);
    }

    @Test
    void linspaceTables() {
        // step = 999 / 49 = 20.387...: 999, 978.61 -> 979, 958.22 -> 958, 937.84 -> 938, 917.45 -> 917
        assertArrayEquals(new int[]{999, 979, 958, 938, 917}, Arrays.copyOf(Timesteps.linspace(1000, 50), 5));
        assertArrayEquals(new int[]{999, 500, 0}, Timesteps.linspace(1000, 3)); // 499.5 -> 500 (half to even)
        assertArrayEquals(new int[]{0}, Timesteps.linspace(1000, 1));
    }

    @Test
    void schedulersRejectTheTrailingQuirkAndBadStepCounts() {
        var s = new DdimScheduler(SchedulerConfig.defaults().with("timestep_spacing", "trailing"));
        var e = assertThrows(IllegalArgumentException.class, () -> s.setTimesteps(61));
        assertTrue(e.getMessage().contains("-1") && e.getMessage().contains("60 or 62"), e.getMessage());
        s.setTimesteps(62);
        assertEquals(62, s.timesteps().length);
        assertThrows(IllegalArgumentException.class, () -> s.setTimesteps(1001));
        assertThrows(IllegalStateException.class, () -> new DdimScheduler(SchedulerConfig.defaults()).previousTimestep(10));
        var ddpm = new DdpmScheduler(SchedulerConfig.defaults().with("steps_offset", 1));
        ddpm.setTimesteps(10);
        assertEquals(1, ddpm.timesteps()[9]);
        assertEquals(-1, ddpm.previousTimestep(1));
        assertEquals(801, ddpm.previousTimestep(901));
    }

    @Test
    void betasMatchTheExistingScheduleAndSpec() {
        var ddpm = new DdpmScheduler(SchedulerConfig.defaults());
        assertArrayEquals(DiscreteSchedule.ddpmDefault().alphasCumprod(), ddpm.alphasCumprod());
        assertEquals((float) (1 - 1e-4), ddpm.alphaBar(0), 0);
        // sigmoid: beta_i = sigmoid(linspace(-6, 6, N)) (end - start) + start
        var sig = new DdpmScheduler(SchedulerConfig.defaults().with("beta_schedule", "sigmoid"));
        double[] b = sig.betas();
        assertEquals(1e-4 + (0.02 - 1e-4) / (1 + Math.exp(6)), b[0], 1e-9);
        assertEquals(1e-4 + (0.02 - 1e-4) / (1 + Math.exp(-6)), b[999], 1e-9);
        // trained_betas are used as given
        var tr = new DdimScheduler(SchedulerConfig.fromMap(Map.of("num_train_timesteps", 4, "trained_betas", java.util.List.of(0.1, 0.2, 0.3, 0.4))));
        assertArrayEquals(new double[]{0.9, 0.72, 0.504, 0.3024}, tr.alphasCumprod(), 1e-7);
        // zero terminal SNR: alpha_bar_T = 0, alpha_bar_0 unchanged
        var z = new DdimScheduler(SchedulerConfig.defaults().with("rescale_betas_zero_snr", true));
        assertEquals(0, z.alphaBar(999), 1e-12);
        assertEquals(ddpm.alphaBar(0), z.alphaBar(0), 1e-7);
        assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.defaults().with("beta_schedule", "laplace"));
    }

    @Test
    void readsTheCifarSchedulerConfig() {
        String json = """
                { "_class_name": "DDPMScheduler", "_diffusers_version": "0.1.1", "beta_end": 0.02,
                  "beta_schedule": "linear", "beta_start": 0.0001, "clip_sample": true,
                  "num_train_timesteps": 1000, "trained_betas": null, "variance_type": "fixed_large" }""";
        SchedulerConfig c = SchedulerConfig.fromJson(json);
        assertEquals(SchedulerConfig.VarianceType.FIXED_LARGE, c.varianceType());
        assertTrue(c.clipSample());
        assertEquals(Spacing.LEADING, c.timestepSpacing());
        assertEquals(SchedulerConfig.PredictionType.EPSILON, c.predictionType());
        assertEquals(SchedulerConfig.defaults().with("variance_type", "fixed_large"), c);
        var e = assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.fromJson("{\"prediction_type\": \"flow\"}"));
        assertTrue(e.getMessage().contains("v_prediction"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.fromJson("{\"beta_end\": 0.02,"));
    }
}
