package dev.diffuse.samplers.schedule;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class ScheduleTest {

    @Test
    void linearBetasAndAlphaBarMatchDiffusers() {
        DiscreteSchedule s = DiscreteSchedule.ddpmDefault();
        assertEquals(1000, s.trainSteps());
        assertEquals((float) 1e-4, s.betas()[0], 0);
        assertEquals((float) 0.02, s.betas()[999], 0);
        // mid value of linspace(1e-4, 0.02, 1000) in float32
        assertEquals(1e-4 + (0.02 - 1e-4) * 500 / 999, s.betas()[500], 1e-9);
        // alpha_bar_0 = 1 - beta_0; alpha_bar at the end of the linear schedule is ~4.04e-5
        assertEquals((float) (1 - 1e-4), s.alphaBar(0), 0);
        assertEquals(4.0358e-5, s.alphaBar(999), 2e-8);
        assertEquals(1.0, s.alphaBar(-1));
        for (double a : s.alphasCumprod()) assertEquals((float) a, a, 0, "alpha_bar stored as float32");
    }

    @Test
    void scaledLinearAndCosineFollowTheirFormulas() {
        double[] sl = BetaSchedule.SCALED_LINEAR.betas(1000, 0.00085, 0.012);
        assertEquals(0.00085, sl[0], 1e-9);
        assertEquals(0.012, sl[999], 1e-8);
        double[] cos = BetaSchedule.SQUAREDCOS_CAP_V2.betas(1000, 0, 0);
        double f0 = Math.pow(Math.cos(0.008 / 1.008 * Math.PI / 2), 2), f1 = Math.pow(Math.cos((0.001 + 0.008) / 1.008 * Math.PI / 2), 2);
        assertEquals((float) (1 - f1 / f0), cos[0], 0);
        assertEquals((float) 0.999, cos[999], 0, "cosine betas are capped at 0.999");
        assertSame(BetaSchedule.SQUAREDCOS_CAP_V2, BetaSchedule.byName("cosine"));
        assertThrows(IllegalArgumentException.class, () -> BetaSchedule.byName("sigmoidal"));
    }

    @Test
    void leadingTimestepsAreDiffusersDefault() {
        int[] ts = DiscreteSchedule.ddpmDefault().leadingTimesteps(50, 0);
        assertEquals(980, ts[0]);
        assertEquals(960, ts[1]);
        assertEquals(0, ts[49]);
        assertEquals(999, DiscreteSchedule.ddpmDefault().leadingTimesteps(1000, 0)[0]);
        assertThrows(IllegalArgumentException.class, () -> DiscreteSchedule.ddpmDefault().leadingTimesteps(1001, 0));
    }

    @Test
    void vpAlphaBarIsTheIntegralOfBeta() {
        VpSchedule vp = VpSchedule.standard();
        for (double t : new double[]{1e-3, 0.1, 0.5, 1}) {
            int n = 100_000;
            double integral = 0;
            for (int i = 0; i < n; i++) integral += vp.beta((i + 0.5) * t / n) * t / n;
            assertEquals(Math.exp(-integral), vp.alphaBar(t), 1e-10);
            assertEquals(1, vp.scale(t) * vp.scale(t) + vp.sigma(t) * vp.sigma(t), 1e-12);
        }
    }

    @Test
    void veSigmaIsGeometricAndG2IsItsDerivative() {
        VeSchedule ve = new VeSchedule(0.01, 50);
        assertEquals(0.01, ve.sigma(0), 1e-15);
        assertEquals(50, ve.sigma(1), 1e-12);
        double t = 0.37, h = 1e-6;
        double d = (Math.pow(ve.sigma(t + h), 2) - Math.pow(ve.sigma(t - h), 2)) / (2 * h);
        assertEquals(d, ve.g2(t), 1e-6 * d);
        double[] levels = ve.geometricLevels(10);
        assertEquals(50, levels[0], 1e-12);
        assertEquals(0.01, levels[9], 1e-15);
        assertEquals(levels[1] / levels[0], levels[5] / levels[4], 1e-12);
    }

    @Test
    void timestepOfInvertsTheNoiseLevel() {
        DiscreteSchedule d = DiscreteSchedule.ddpmDefault();
        for (int t : new int[]{0, 1, 17, 500, 998, 999}) {
            double a = d.alphaBar(t);
            assertEquals(t, d.timestepOf(Math.sqrt(a), Math.sqrt(1 - a)), 1e-6, "table entry " + t);
        }
        double mid = d.timestepOf(Math.sqrt((d.alphaBar(300) + d.alphaBar(301)) / 2), Math.sqrt(1 - (d.alphaBar(300) + d.alphaBar(301)) / 2));
        assertTrue(mid > 300 && mid < 301, "between entries: " + mid);
        // the continuous VP schedule (beta 0.1..20) is DDPM's linear schedule in the limit: t in [0, 1] ~ index t * 1000
        VpSchedule vp = VpSchedule.standard();
        assertEquals(500, d.timestepOf(vp.scale(0.5), vp.sigma(0.5)), 2.0);
        assertEquals(0, d.timestepOf(1, 0));
        assertEquals(999, d.timestepOf(0, 1));
    }
}
