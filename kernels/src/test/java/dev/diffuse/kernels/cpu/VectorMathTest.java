package dev.diffuse.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import jdk.incubator.vector.FloatVector;

/** The exact-arithmetic exp: accuracy against Math.exp, and vector lanes bit-identical to the scalar version. */
class VectorMathTest {
    @Test
    void expIsWithinTwoUlpOfMathExpAndLanesMatchTheScalar() {
        int v = MicroKernels.V;
        float[] x = new float[v], out = new float[v];
        double worst = 0;
        for (int i = 0; i <= 200_000; i++) {
            float a = -87f + 175f * i / 200_000;        // -87 .. 88
            x[i % v] = a;
            if (i % v != v - 1) continue;
            VectorMath.exp(FloatVector.fromArray(MicroKernels.S, x, 0)).intoArray(out, 0);
            for (int l = 0; l < v; l++) {
                double want = Math.exp(x[l]);
                worst = Math.max(worst, Math.abs(out[l] - want) / Math.ulp((float) want));
                assertEquals(Float.floatToRawIntBits(VectorMath.exp(x[l])), Float.floatToRawIntBits(out[l]),
                        "lane vs scalar at x = " + x[l]);
            }
        }
        assertTrue(worst <= 2.0, "worst error " + worst + " ulp");
    }

    @Test
    void extremesAreFiniteAndOrdered() {
        assertEquals(1f, VectorMath.exp(0f));
        assertTrue(VectorMath.exp(-1000f) > 0f && VectorMath.exp(-1000f) < 1e-37f);
        assertTrue(Float.isFinite(VectorMath.exp(1000f)));
    }
}
