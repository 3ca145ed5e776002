package dev.diffuse.runtime;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** Per-row noise keys: the definition, equality with one shared seed, and OpenCL vs Java on odd row lengths. */
class RowNoiseTest {
    @Test
    void rowsOfOneRequestDrawWhatTheSharedSeedDraws() {
        int rows = 5, d = 7 * 13; // 91 values per row: rows start mid Philox block
        try (Tensor a = Tensor.allocate(TestDevices.java(), rows, d); Tensor b = Tensor.allocate(TestDevices.java(), rows, d);
             RowNoise keys = RowNoise.ofRequest(42, rows, d)) {
            Rng.fillNormal(a, Noise.seed(42), 3, 0.5f, 2f);
            Rng.fillNormal(b, keys, 3, 0.5f, 2f);
            assertArrayEquals(a.toArray(), b.toArray(), "bit for bit");
        }
    }

    @Test
    void javaFillFollowsTheDefinitionRowByRow() {
        long[] seeds = {9, 1L << 40, 9, -3}, firsts = {0, 5, 91 * 7, (1L << 33) + 1};
        int d = 91;
        try (Tensor t = Tensor.allocate(TestDevices.java(), 4, d); RowNoise keys = new RowNoise(seeds, firsts)) {
            Rng.fillNormal(t, keys, 11, 0f, 1f);
            float[] z = t.toArray();
            for (int r = 0; r < 4; r++)
                for (int j = 0; j < d; j++)
                    assertEquals(Philox.normal(seeds[r], 11, firsts[r] + j), z[r * d + j], 0f, "row " + r + " element " + j);
        }
    }

    @Test
    void openClRowFillMatchesJava() {
        ClDevice cl = TestDevices.openCl();
        int rows = 37, d = 3 * 7 * 11; // 231: odd, not a multiple of 4 nor of a work-group
        long[] seeds = new long[rows], firsts = new long[rows];
        for (int r = 0; r < rows; r++) {
            seeds[r] = 1000 + r % 5;
            firsts[r] = (long) (r * 3 % 17) * d + (r % 3);
        }
        try (RowNoise keys = new RowNoise(seeds, firsts); Tensor j = Tensor.allocate(TestDevices.java(), rows, d);
             Tensor c = Tensor.allocate(cl, rows, d)) {
            Rng.fillNormal(j, keys, (1L << 32) + 3, -1f, 0.5f);
            Rng.fillNormal(c, keys, (1L << 32) + 3, -1f, 0.5f);
            Close.assertClose(j.toArray(), c.toArray(), 2e-6, 2e-6, "row normals java vs " + cl.id());
        }
    }

    @Test
    void keysThatDoNotSplitTheTensorIntoRowsAreRefused() {
        try (Tensor t = Tensor.allocate(TestDevices.java(), 10); RowNoise keys = new RowNoise(new long[]{1, 2, 3}, new long[]{0, 0, 0})) {
            var e = assertThrows(IllegalArgumentException.class, () -> Rng.fillNormal(t, keys, 0, 0f, 1f));
            assertTrue(e.getMessage().contains("3 row keys"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new RowNoise(new long[]{1}, new long[]{-1}));
    }
}
