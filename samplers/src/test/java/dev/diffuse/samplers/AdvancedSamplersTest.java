package dev.diffuse.samplers;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

import dev.diffuse.samplers.schedule.DiscreteSchedule;
import dev.diffuse.samplers.schedule.KarrasSchedule;
import dev.diffuse.samplers.schedule.NoisePath;
import dev.diffuse.samplers.schedule.VpSchedule;

/** The advanced-sampler factory and its schedules. */
class AdvancedSamplersTest {
    @Test
    void everyNameCreatesItsSamplerAndUnknownNamesGiveNull() {
        for (String name : AdvancedSamplers.NAMES) {
            Sampler s = AdvancedSamplers.create(name, Samplers.Options.defaults(10));
            assertNotNull(s, name);
            assertEquals(name, s.name());
            assertEquals(name, Samplers.create(name, Samplers.Options.defaults(10)).name(), "the registry reaches " + name);
        }
        assertEquals(Samplers.NAMES.size(), new java.util.HashSet<>(Samplers.NAMES).size(), "registered names are unique: " + Samplers.NAMES);
        assertNull(AdvancedSamplers.create("ddim", Samplers.Options.defaults(10)));
        var o = Samplers.Options.defaults(10);
        assertEquals(19, AdvancedSamplers.create("edm-heun", o).evaluations());
        assertEquals(10, AdvancedSamplers.create("dpmpp-2m", o).evaluations());
        assertEquals(19, AdvancedSamplers.create("dpm-2s", o).evaluations()); // the last step (below 15 steps) is first order
        assertEquals(40, AdvancedSamplers.create("ode-rk4", o).evaluations());
        assertEquals(20, AdvancedSamplers.create("pc-ve", o).evaluations());
    }

    @Test
    void karrasLevelsFollowEquationFive() {
        double[] s = KarrasSchedule.of(0.002, 80).sigmas(18);
        assertEquals(19, s.length);
        assertEquals(80, s[0], 1e-12);
        assertEquals(0.002, s[17], 1e-15);
        assertEquals(0, s[18]);
        double a = Math.pow(80, 1 / 7.0), b = Math.pow(0.002, 1 / 7.0);
        for (int i = 0; i < 18; i++) {
            assertEquals(a + i / 17.0 * (b - a), Math.pow(s[i], 1 / 7.0), 1e-12, "sigma_" + i + "^(1/rho) is uniform");
            assertTrue(s[i + 1] < s[i]);
        }
        assertArrayEquals(new double[]{80, 0}, KarrasSchedule.of(0.002, 80).sigmas(1));
        assertThrows(IllegalArgumentException.class, () -> KarrasSchedule.of(1, 0.5));
    }

    @Test
    void logSnrGridInvertsLambdaAndIsUniform() {
        VpSchedule vp = VpSchedule.standard();
        for (double t : new double[]{1e-3, 0.01, 0.3, 0.9, 1})
            assertEquals(t, NoisePath.timeOfLambda(vp, NoisePath.lambda(vp, t)), 1e-9 * Math.max(1, 1 / t) , "t of lambda(t)");
        NoisePath p = NoisePath.vpLogSnr(vp, 12);
        double h = p.lambda(1) - p.lambda(0);
        for (int k = 0; k < 12; k++) {
            assertEquals(h, p.lambda(k + 1) - p.lambda(k), 1e-8, "uniform lambda step " + k);
            assertEquals(1, p.scale()[k] * p.scale()[k] + p.sigma()[k] * p.sigma()[k], 1e-12);
        }
        double[] mid = p.between(3, 0.5);
        assertEquals(p.lambda(3) + h / 2, Math.log(mid[0] / mid[1]), 1e-9);
        NoisePath full = NoisePath.discreteFull(DiscreteSchedule.ddpmDefault(), 1000);
        assertEquals(999, full.timestep()[0]);
        assertEquals(0, full.timestep()[999]);
        assertEquals(0, full.sigma()[1000]);
        assertEquals(Double.POSITIVE_INFINITY, full.lambda(1000));
        NoisePath d = NoisePath.discreteLeading(DiscreteSchedule.ddpmDefault(), 10);
        double[] dm = d.between(2, 0.5);
        assertEquals(0.5 * (d.lambda(2) + d.lambda(3)), Math.log(dm[0] / dm[1]), 1e-9, "discrete midpoint lambda");
        assertEquals(650, dm[2], 1e-9, "midpoint timestep interpolated between 700 and 600");
    }
}
