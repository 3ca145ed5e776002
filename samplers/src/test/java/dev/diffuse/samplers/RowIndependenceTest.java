package dev.diffuse.samplers;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.RowNoise;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;
import dev.diffuse.samplers.gmm.GaussianMixture;
import dev.diffuse.samplers.gmm.MixtureDenoisers;
import dev.diffuse.samplers.gmm.MixturePresets;

/**
 * Every registered sampler with a noise key per row: two requests interleaved in one batch get, row for row, the bits
 * each gets alone with its plain seed (the contract the pipeline's dynamic batching rests on). The exact mixture
 * denoiser computes each row by itself, so any difference would come from the sampler or its kernels.
 */
class RowIndependenceTest {
    @Test
    void interleavedRequestsGetTheirOwnSamplesOnEveryDevice() {
        GaussianMixture mix = MixturePresets.byName("gmm16d");
        int d = mix.dim();
        // rows of request A (seed 11, 3 images) and B (seed 12, 4 images), interleaved: A0 B0 A1 B1 B2 A2 B3
        int[][] order = {{0, 0}, {1, 0}, {0, 1}, {1, 1}, {1, 2}, {0, 2}, {1, 3}};
        long[] seeds = {11, 12};
        int[] sizes = {3, 4};
        List<String> checked = new ArrayList<>();
        for (Device dev : List.of(TestDevices.java(), TestDevices.openCl())) {
            for (String name : Samplers.NAMES) {
                Samplers.Options o = new Samplers.Options(4, 0.5, "linear", false, 0.01, 20, 0.01, 4);
                Sampler s = Samplers.create(name, o);
                if (!s.rowIndependent()) continue;
                try (var den = MixtureDenoisers.forSampler(mix, dev, name); Workspace ws = new Workspace(dev, "test", 64L << 20)) {
                    float[][] alone = new float[2][];
                    for (int q = 0; q < 2; q++) alone[q] = s.sample(den, ws, seeds[q], sizes[q], d).toArray();
                    long[] rs = new long[order.length], rf = new long[order.length];
                    for (int r = 0; r < order.length; r++) {
                        rs[r] = seeds[order[r][0]];
                        rf[r] = (long) order[r][1] * d;
                    }
                    float[] batch;
                    try (RowNoise keys = new RowNoise(rs, rf)) {
                        batch = s.sample(den, ws, keys, order.length, d).toArray();
                    }
                    for (int r = 0; r < order.length; r++) {
                        int q = order[r][0], k = order[r][1];
                        for (int j = 0; j < d; j++)
                            if (Float.floatToRawIntBits(batch[r * d + j]) != Float.floatToRawIntBits(alone[q][k * d + j]))
                                fail(dev.id() + " " + name + ": row " + r + " (request " + q + " image " + k + ") element " + j + " is "
                                        + batch[r * d + j] + " in the batch but " + alone[q][k * d + j] + " alone");
                    }
                    checked.add(name);
                }
            }
        }
        assertTrue(checked.size() >= 2 * (Samplers.NAMES.size() - 2), "checked " + checked);
    }

    @Test
    void predictorCorrectorSamplersSayTheirRowsAreCoupled() {
        assertFalse(Samplers.create("pc-vp", Samplers.Options.defaults(3)).rowIndependent());
        assertFalse(Samplers.create("pc-ve", Samplers.Options.defaults(3)).rowIndependent());
        assertTrue(Samplers.create("ddpm", Samplers.Options.defaults(3)).rowIndependent());
    }
}
