package dev.diffuse.samplers.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dev.diffuse.runtime.Close;
import dev.diffuse.samplers.gmm.GaussianMixture;
import dev.diffuse.samplers.gmm.MixturePresets;

/** Sliced W2, MMD and the mixture statistics on cases with known answers. */
class MetricsTest {

    static float[] shifted(float[] x, int d, double[] v) {
        float[] y = x.clone();
        for (int i = 0; i < y.length; i++) y[i] += (float) v[i % d];
        return y;
    }

    @Test
    void sw2IsZeroForIdenticalSets() {
        float[] a = MixturePresets.aniso2d().sample(500, 1);
        assertEquals(0, SlicedWasserstein.sw2(a, a, 2), 0);
        float[] b = MixturePresets.byName("gmm16d").sample(300, 1);
        assertEquals(0, SlicedWasserstein.sw2(b, b.clone(), 16, 64, 9), 0);
    }

    @Test
    void oneDimensionalShiftGivesItsLength() {
        float[] a = Close.randn(3, 777);
        for (double v : new double[]{0.25, -1.5, 3}) {
            float[] b = shifted(a, 1, new double[]{v});
            double expected = 0; // the float shift is not exact: measure it
            for (int i = 0; i < a.length; i++) expected += ((double) b[i] - a[i]) / a.length;
            assertEquals(Math.abs(expected), SlicedWasserstein.sw2(a, b, 1, 8, 0), 1e-6, "shift " + v);
        }
    }

    /** A shift v moves projection l by theta_l . v exactly, so SW2 = sqrt(mean_l (theta_l . v)^2) ~ |v| / sqrt(d). */
    @Test
    void multiDimensionalShiftGivesTheProjectedLength() {
        int d = 8, dirs = 256;
        float[] a = MixturePresets.random(d, 3, 5).sample(400, 2);
        double[] v = {1, -0.5, 0.25, 0, 2, 0, -1, 0.5};
        double[][] theta = SlicedWasserstein.directions(d, dirs, 4);
        double mean2 = 0, norm2 = 0;
        for (double[] t : theta) {
            double p = 0;
            for (int j = 0; j < d; j++) p += t[j] * v[j];
            mean2 += p * p / dirs;
        }
        for (double x : v) norm2 += x * x;
        double sw = SlicedWasserstein.sw2(a, shifted(a, d, v), d, dirs, 4);
        assertEquals(Math.sqrt(mean2), sw, 1e-4);
        assertEquals(Math.sqrt(norm2 / d), sw, 0.15 * Math.sqrt(norm2 / d));
    }

    @Test
    void w2BetweenSetsOfDifferentSizesIsExact() {
        // Q_a: 0 on [0, 1/2), 1 on [1/2, 1); Q_b: 0, 0.5, 1 on thirds: differ by 0.5 on [1/3, 2/3): 0.25 / 3
        assertEquals(1.0 / 12, SlicedWasserstein.w2squared(new double[]{0, 1}, new double[]{0, 0.5, 1}), 1e-15);
        assertEquals(4, SlicedWasserstein.w2squared(new double[]{0, 1}, new double[]{2, 2, 3, 3}), 1e-15);
    }

    @Test
    void sw2GrowsWithTheShiftAndTheFloorFallsWithSampleSize() {
        GaussianMixture m = MixturePresets.ring8();
        float[] a = m.sample(2000, 1), b = m.sample(2000, 1, 2000);
        double prev = -1;
        for (double s : new double[]{0, 0.5, 1, 2}) {
            double sw = SlicedWasserstein.sw2(a, shifted(b, 2, new double[]{s, 0}), 2, 128, 3);
            assertTrue(sw > prev, "SW2 at shift " + s + " = " + sw + " after " + prev);
            prev = sw;
        }
        double small = SlicedWasserstein.exactFloor(m, 250, 250, 128, 7), large = SlicedWasserstein.exactFloor(m, 8000, 8000, 128, 7);
        assertTrue(small > 0 && large > 0 && large < 0.6 * small, "floors " + small + " (250) and " + large + " (8000)");
    }

    @Test
    void mmdIsNearZeroForOneDistributionAndPositiveForAnother() {
        GaussianMixture m = MixturePresets.aniso2d();
        float[] a = m.sample(1500, 1), b = m.sample(1500, 1, 1500);
        float[] c = shifted(b, 2, new double[]{0.7, 0});
        double same = Mmd.mmd2(a, b, 2), diff = Mmd.mmd2(a, c, 2);
        assertTrue(Math.abs(same) < 0.003, "same distribution: MMD^2 = " + same);
        assertTrue(diff > 10 * Math.max(Math.abs(same), 1e-3), "shifted: MMD^2 = " + diff + " vs " + same);
        // subsampling: 4000 rows capped at 1000 still separates them
        float[] big = m.sample(4000, 2);
        double sub = Mmd.mmd2(big, c, 2, Double.NaN, 1000, 5);
        assertTrue(sub > 0.5 * diff, "subsampled MMD^2 = " + sub + " vs " + diff);
        // a fixed bandwidth gives the same ordering
        assertTrue(Mmd.mmd2(a, c, 2, 1.0, 2000, 0) > Mmd.mmd2(a, b, 2, 1.0, 2000, 0));
    }

    @Test
    void logDensityStatisticSeparatesExactFromBlurredSamples() {
        GaussianMixture m = MixturePresets.ring8();
        var exact = MixtureStats.exactMeanLogDensity(m, 20_000, 1);
        var again = MixtureStats.meanLogDensity(m, m.sample(20_000, 2));
        assertTrue(Math.abs(again.z(exact)) < 4, "exact vs exact z = " + again.z(exact));
        var blurred = MixtureStats.meanLogDensity(m, m.noised(1, 0.15).sample(20_000, 2));
        assertTrue(blurred.z(exact) < -8, "blurred z = " + blurred.z(exact) + " " + blurred + " vs " + exact);
    }

    @Test
    void occupancyMatchesWeightsForExactSamplesAndFlagsMissingModes() {
        GaussianMixture m = MixturePresets.aniso2d();
        var ok = MixtureStats.occupancy(m, m.sample(20_000, 3));
        assertTrue(ok.maxAbsZ() < 4.5, "exact samples: max |z| = " + ok.maxAbsZ() + " " + java.util.Arrays.toString(ok.fraction()));
        GaussianMixture ring = MixturePresets.ring8();
        var ringOk = MixtureStats.occupancy(ring, ring.sample(8000, 3));
        assertTrue(ringOk.maxAbsZ() < 4.5 && ringOk.chiSquare() < 30, "ring: chi^2 = " + ringOk.chiSquare());
        var collapsed = MixtureStats.occupancy(ring, ring.conditional(0).sample(8000, 3));
        assertEquals(8000, collapsed.counts()[0]);
        assertTrue(collapsed.maxAbsZ() > 50);
    }

    @Test
    void sampleMomentsMatchTheMixture() {
        GaussianMixture m = MixturePresets.aniso2d();
        int n = 40_000;
        float[] x = m.sample(n, 4);
        double[] mean = MixtureStats.mean(x, 2), se = MixtureStats.meanStandardErrors(m.covariance(), n);
        double[] tm = m.mean();
        for (int i = 0; i < 2; i++) assertEquals(tm[i], mean[i], 4.5 * se[i]);
        double[][] c = MixtureStats.covariance(x, 2), tc = m.covariance();
        for (int i = 0; i < 2; i++) for (int j = 0; j < 2; j++) assertEquals(tc[i][j], c[i][j], 0.05 * Math.sqrt(tc[i][i] * tc[j][j]));
    }

    @Test
    void reportSeparatesExactFromBlurredSamplesAndPairedDistanceIsExact() {
        GaussianMixture m = MixturePresets.aniso2d();
        SampleReport exact = SampleReport.of(m, m.sample(3000, 99), 6000, 1);
        SampleReport blurred = SampleReport.of(m, m.noised(1, 0.4).sample(3000, 99), 6000, 1);
        assertTrue(Math.abs(exact.logDensityZ()) < 4, exact.toString());
        // MMD^2 with the median bandwidth (~ the distance between modes) does not see a blur of 0.4 at n = 3000
        // (measured: 1.7e-4 against a floor of 5.6e-4); the log-density statistic does, at z ~ -20.
        assertTrue(blurred.logDensityZ() < -8 && blurred.sw2() > 1.5 * blurred.sw2Floor(), blurred.toString());
        float[] a = {0, 0, 1, 1}, b = {3, 4, 1, 1};
        assertEquals(Math.sqrt(25 / 2.0), Paired.rmsDistance(a, b, 2), 1e-12);
        assertEquals(4, Paired.maxAbsDifference(a, b));
        assertEquals(2, Paired.order(0.4, 0.1), 1e-12);
    }
}
