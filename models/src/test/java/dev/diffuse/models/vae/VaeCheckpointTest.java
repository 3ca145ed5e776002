package dev.diffuse.models.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.diffuse.models.io.Safetensors;
import dev.diffuse.models.train.Checkpoints;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.TestDevices;

/** AutoencoderKL folders: round trips, diffusers' config defaults, and the loader's errors. */
class VaeCheckpointTest {
    @TempDir Path tmp;

    static void assertSameParams(AutoencoderKL a, AutoencoderKL b) {
        a.namedParameters().forEach((n, v) -> assertArrayEquals(v.toArray(), b.namedParameters().get(n).toArray(), n));
    }

    @Test
    void saveLoadRoundTripFlatAndPipelineLayout() throws Exception {
        Device j = TestDevices.java();
        AutoencoderKLConfig c = AutoencoderKLConfig.tiny().withScalingFactor(0.4321);
        try (AutoencoderKL m = new AutoencoderKL(c, j, 2, false)) {
            m.initialize(4);
            VaeCheckpoint.save(m, tmp.resolve("flat"));
            assertEquals(c, AutoencoderKLConfig.read(tmp.resolve("flat/config.json")));
            try (AutoencoderKL l = VaeCheckpoint.load(tmp.resolve("flat"), j, 1, true)) {
                assertSameParams(m, l);
            }
            VaeCheckpoint.save(m, tmp.resolve("pipe/vae"));
            try (AutoencoderKL l = VaeCheckpoint.load(tmp.resolve("pipe"), j, 1, false)) {
                assertSameParams(m, l);
            }
            assertEquals(64, VaeCheckpoint.sha256(tmp.resolve("flat")).length());
            assertEquals(VaeCheckpoint.sha256(tmp.resolve("flat")), VaeCheckpoint.sha256(tmp.resolve("pipe")));
        }
    }

    @Test
    void configDefaultsAndUnsupportedValuesInOneError() {
        AutoencoderKLConfig d = AutoencoderKLConfig.fromJson("{\"_class_name\": \"AutoencoderKL\", \"unknown_key\": 5}");
        assertEquals(3, d.inChannels());
        assertEquals(List.of(64), d.blockOutChannels());
        assertEquals(4, d.latentChannels());
        assertEquals(32, d.normNumGroups());
        assertEquals(0.18215, d.scalingFactor());
        assertTrue(d.useQuantConv() && d.usePostQuantConv() && d.midBlockAddAttention());
        AutoencoderKLConfig f = AutoencoderKLConfig.fashionMnist().withScalingFactor(0.7);
        assertEquals(f, AutoencoderKLConfig.fromJson(f.toJson()));
        // diffusers' sd-vae-ft-mse-style config (4 levels, 2 layers) parses
        AutoencoderKLConfig sd = AutoencoderKLConfig.fromJson("{\"_class_name\": \"AutoencoderKL\", \"block_out_channels\": [128, 256, 512, 512],"
                + "\"down_block_types\": [\"DownEncoderBlock2D\", \"DownEncoderBlock2D\", \"DownEncoderBlock2D\", \"DownEncoderBlock2D\"],"
                + "\"up_block_types\": [\"UpDecoderBlock2D\", \"UpDecoderBlock2D\", \"UpDecoderBlock2D\", \"UpDecoderBlock2D\"],"
                + "\"layers_per_block\": 2, \"sample_size\": 256, \"latents_mean\": null, \"shift_factor\": null}");
        assertEquals(32, sd.latentSize());
        String e = assertThrows(IllegalArgumentException.class, () -> AutoencoderKLConfig.fromJson(
                "{\"act_fn\": \"gelu\", \"shift_factor\": 0.1159, \"latents_mean\": [0.1, 0.2]}")).getMessage();
        assertTrue(e.contains("act_fn") && e.contains("shift_factor") && e.contains("latents_mean"), e);
        e = assertThrows(IllegalArgumentException.class, () -> AutoencoderKLConfig.fromJson(
                "{\"down_block_types\": [\"DownBlock2D\"], \"block_out_channels\": [30], \"norm_num_groups\": 8}")).getMessage();
        assertTrue(e.contains("DownBlock2D") && e.contains("multiple of norm_num_groups"), e);
        e = assertThrows(IllegalArgumentException.class, () -> AutoencoderKLConfig.fromJson("{\"_class_name\": \"UNet2DModel\"}")).getMessage();
        assertTrue(e.contains("not a AutoencoderKL config"), e);
    }

    @Test
    void legacyAttentionNamesAndStrictErrors() throws Exception {
        Device j = TestDevices.java();
        try (AutoencoderKL m = new AutoencoderKL(AutoencoderKLConfig.tiny(), j, 1, false)) {
            m.initialize(5);
            Map<String, Safetensors.F32Tensor> cur = Checkpoints.namedSlices(m, m.parameters().toArray(), "");
            Path dir = tmp.resolve("legacy");
            Map<String, Safetensors.F32Tensor> legacy = new LinkedHashMap<>();
            cur.forEach((n, v) -> legacy.put(n.replace(".to_q.", ".query.").replace(".to_k.", ".key.").replace(".to_v.", ".value.")
                    .replace(".to_out.0.", ".proj_attn."), v));
            assertTrue(legacy.containsKey("decoder.mid_block.attentions.0.proj_attn.weight"));
            VaeCheckpoint.save(m.config(), legacy, dir);
            try (AutoencoderKL l = VaeCheckpoint.load(dir, j, 1, false)) {
                assertSameParams(m, l);
            }
            Map<String, Safetensors.F32Tensor> broken = new LinkedHashMap<>(cur);
            broken.remove("encoder.conv_in.bias");
            broken.put("decoder.extra.weight", new Safetensors.F32Tensor(new int[]{1}, new float[]{1}));
            broken.put("quant_conv.weight", new Safetensors.F32Tensor(new int[]{6, 6}, new float[36]));
            VaeCheckpoint.save(m.config(), broken, tmp.resolve("broken"));
            String e = assertThrows(IllegalArgumentException.class, () -> VaeCheckpoint.load(tmp.resolve("broken"), j, 1, false)).getMessage();
            assertTrue(e.contains("missing (1): encoder.conv_in.bias") && e.contains("unexpected (1): decoder.extra.weight"), e);
            broken.put("encoder.conv_in.bias", cur.get("encoder.conv_in.bias"));
            broken.remove("decoder.extra.weight");
            VaeCheckpoint.save(m.config(), broken, tmp.resolve("shape"));
            e = assertThrows(IllegalArgumentException.class, () -> VaeCheckpoint.load(tmp.resolve("shape"), j, 1, false)).getMessage();
            assertTrue(e.contains("quant_conv.weight: shape [6, 6] in the file, model expects [6, 6, 1, 1]"), e);
            Files.createDirectories(tmp.resolve("empty"));
            e = assertThrows(java.io.FileNotFoundException.class, () -> VaeCheckpoint.load(tmp.resolve("empty"), j, 1, false)).getMessage();
            assertTrue(e.contains("no config.json"), e);
        }
    }
}
