package dev.diffuse.samplers.consistency;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.schedule.DiscreteSchedule;

class DdpmConsistencySamplerTest {
    static final DiscreteSchedule S = DiscreteSchedule.ddpmDefault();

    /**
     * The exact consistency function of 1-D data N(mu, v) on the VP path: the probability-flow ODE moves x_t ~ N(s mu,
     * s^2 v + sigma^2) to x_0 by the monotone map of standardised values, f(x, t) = mu + sqrt(v) (x - s mu) / sqrt(s^2 v + sigma^2).
     */
    record ExactConsistency(double mu, double v) implements Denoiser {
        @Override public Prediction prediction() { return Prediction.X0; }

        @Override
        public void predict(Tensor out, Tensor x, NoiseLevel l) {
            float[] xs = x.toArray(), o = new float[xs.length];
            double s = l.scale(), sg = l.sigma();
            for (int i = 0; i < xs.length; i++) o[i] = (float) (mu + Math.sqrt(v) * (xs[i] - s * mu) / Math.sqrt(s * s * v + sg * sg));
            out.upload(o);
        }
    }

    @Test
    void anExactConsistencyFunctionGivesTheDataInOneTwoOrFourSteps() {
        Device d = TestDevices.java();
        double mu = 0.3, v = 0.04;
        for (int steps : new int[]{1, 2, 4}) {
            DdpmConsistencySampler s = DdpmConsistencySampler.onGrid(S, 40, 960, steps, false);
            try (Workspace ws = new Workspace(d, "test", 1 << 20)) {
                float[] x = s.sample(new ExactConsistency(mu, v), ws, 7, 20000, 1).toArray();
                double m = 0, m2 = 0;
                for (float f : x) { m += f; m2 += (double) f * f; }
                m /= x.length;
                double std = Math.sqrt(m2 / x.length - m * m);
                assertEquals(mu, m, 0.005, steps + " steps: mean");
                assertEquals(Math.sqrt(v), std, 0.005, steps + " steps: std");
            }
        }
    }

    @Test
    void gridTimestepsClippingAndErrors() {
        assertArrayEquals(new int[]{960}, DdpmConsistencySampler.onGrid(S, 40, 960, 1, true).timesteps());
        assertArrayEquals(new int[]{960, 480}, DdpmConsistencySampler.onGrid(S, 40, 960, 2, true).timesteps());
        assertArrayEquals(new int[]{960, 720, 480, 240}, DdpmConsistencySampler.onGrid(S, 40, 960, 4, true).timesteps());
        assertArrayEquals(new int[]{760, 360}, DdpmConsistencySampler.onGrid(S, 40, 760, 2, true).timesteps());
        assertArrayEquals(new int[]{760, 560, 360, 200}, DdpmConsistencySampler.onGrid(S, 40, 760, 4, true).timesteps());
        Device d = TestDevices.java();
        try (Workspace ws = new Workspace(d, "test", 1 << 20)) {
            float[] x = DdpmConsistencySampler.onGrid(S, 40, 960, 2, true).sample(new ExactConsistency(0.9, 1.0), ws, 3, 500, 1).toArray();
            for (float f : x) assertTrue(f >= -1 && f <= 1, "clipped: " + f);
        }
        String e = assertThrows(IllegalArgumentException.class, () -> new DdpmConsistencySampler(S, new int[]{500, 600}, false)).getMessage();
        assertTrue(e.contains("decrease"), e);
        e = assertThrows(IllegalArgumentException.class, () -> DdpmConsistencySampler.onGrid(S, 40, 960, 30, false)).getMessage();
        assertTrue(e.contains("1..24"), e);
        e = assertThrows(IllegalArgumentException.class, () -> DdpmConsistencySampler.onGrid(S, 40, 750, 2, false)).getMessage();
        assertTrue(e.contains("multiple of the grid's stride 40"), e);
    }
}
