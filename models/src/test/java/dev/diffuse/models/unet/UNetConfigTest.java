package dev.diffuse.models.unet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.diffuse.runtime.Tensor;

class UNetConfigTest {
    static final String CIFAR_JSON = """
            { "_class_name": "UNet2DModel", "_diffusers_version": "0.0.4",
              "act_fn": "silu", "attention_head_dim": null, "block_out_channels": [128, 256, 256, 256],
              "center_input_sample": false,
              "down_block_types": ["DownBlock2D", "AttnDownBlock2D", "DownBlock2D", "DownBlock2D"],
              "downsample_padding": 0, "flip_sin_to_cos": false, "freq_shift": 1, "in_channels": 3,
              "layers_per_block": 2, "mid_block_scale_factor": 1, "norm_eps": 1e-06, "norm_num_groups": 32,
              "out_channels": 3, "sample_size": 32, "time_embedding_type": "positional",
              "up_block_types": ["UpBlock2D", "UpBlock2D", "AttnUpBlock2D", "UpBlock2D"] }
            """;

    @Test
    void cifarConfigParsesToThePreset() {
        assertEquals(UNetConfig.ddpmCifar10(), UNetConfig.fromJson(CIFAR_JSON));
        UNetConfig c = UNetConfig.ddpmCifar10();
        assertEquals(512, c.timeDim());
        assertEquals(1, c.heads(256));
    }

    @Test
    void defaultsAreDiffusers() {
        UNetConfig c = UNetConfig.fromJson("{\"sample_size\": 64}");
        assertEquals(List.of(224, 448, 672, 896), c.blockOutChannels());
        assertEquals(List.of("DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"), c.downBlockTypes());
        assertEquals(List.of("AttnUpBlock2D", "AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"), c.upBlockTypes());
        assertEquals(3, c.inChannels());
        assertEquals(2, c.layersPerBlock());
        assertEquals(8, c.attentionHeadDim());
        assertEquals(32, c.normNumGroups());
        assertEquals(1e-5f, c.normEps());
        assertEquals(1, c.downsamplePadding());
        assertTrue(c.flipSinToCos());
        assertEquals(0f, c.freqShift());
        assertEquals(896, c.timeDim());
        assertEquals("UNetMidBlock2D", c.midBlockType());
        assertNull(c.numClassEmbeds());
        // explicit null head dim: one head per block; UNetRes prefix stripped; metadata and unknown keys ignored
        UNetConfig d = UNetConfig.fromJson("{\"attention_head_dim\": null, \"_foo\": 1, \"some_future_key\": 3,"
                + "\"down_block_types\": [\"UNetResDownBlock2D\", \"AttnDownBlock2D\", \"AttnDownBlock2D\", \"AttnDownBlock2D\"],"
                + "\"act_fn\": \"swish\"}");
        assertNull(d.attentionHeadDim());
        assertEquals("DownBlock2D", d.downBlockTypes().get(0));
    }

    @Test
    void unsupportedKeysAreNamed() {
        expect("{\"time_embedding_type\": \"fourier\"}", "time_embedding_type", "fourier", "positional");
        expect("{\"resnet_time_scale_shift\": \"scale_shift\"}", "resnet_time_scale_shift", "scale_shift", "default");
        expect("{\"class_embed_type\": \"timestep\"}", "class_embed_type", "timestep", "num_class_embeds");
        expect("{\"act_fn\": \"mish\"}", "act_fn", "mish", "silu");
        expect("{\"upsample_type\": \"resnet\"}", "upsample_type", "resnet", "conv");
        expect("{\"downsample_type\": \"resnet\"}", "downsample_type", "resnet", "conv");
        expect("{\"down_block_types\": [\"SkipDownBlock2D\", \"AttnDownBlock2D\", \"AttnDownBlock2D\", \"AttnDownBlock2D\"]}",
                "down_block_types", "SkipDownBlock2D", "DownBlock2D");
        expect("{\"mid_block_type\": \"UNetMidBlock2DCrossAttn\"}", "mid_block_type", "CrossAttn", "UNetMidBlock2D");
        expect("{\"norm_num_groups\": 5}", "norm_num_groups", "5", "divisible");
        expect("{\"attention_head_dim\": 10}", "attention_head_dim", "10", "divide");
        expect("{\"downsample_padding\": 2}", "downsample_padding", "2", "0");
        expect("{\"in_channels\": null}", "in_channels", "null", "integer");
        expect("{\"_class_name\": \"UNet2DConditionModel\"}", "_class_name", "UNet2DConditionModel", "UNet2DModel");
        expect("{\"block_out_channels\": [32, 64]}", "block_out_channels", "2", "same length");
        expect("not json", "JSON", "JSON", "JSON");
    }

    private static void expect(String json, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> UNetConfig.fromJson(json));
        for (String p : parts) assertTrue(e.getMessage().contains(p), () -> "message '" + e.getMessage() + "' lacks '" + p + "'");
    }

    @Test
    void toJsonRoundTrips() {
        for (UNetConfig c : List.of(UNetConfig.ddpmCifar10(), UNetConfig.small(), UNetConfig.small(true), UNetConfig.tiny())) {
            String j = c.toJson();
            assertEquals(c, UNetConfig.fromJson(j), j);
            assertTrue(j.contains("\"_class_name\" : \"UNet2DModel\""), j);
        }
    }

    /** The companion key list of spec §4 (copied into test resources): 328 names and shapes, 35,746,307 parameters. */
    @Test
    void cifarLayoutIsTheDiffusersKeyList() throws Exception {
        List<String> expected = new ArrayList<>();
        try (var in = getClass().getResourceAsStream("unet2d-ddpm-cifar10-32-keys.txt");
             var r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isBlank() || line.startsWith("#")) continue;
                int sp = line.indexOf(' ');
                expected.add(line.substring(0, sp) + " " + line.substring(sp + 1).replace(" ", ""));
            }
        }
        Map<String, int[]> layout = UNet2DModel.layout(UNetConfig.ddpmCifar10());
        List<String> actual = new ArrayList<>();
        layout.forEach((n, s) -> actual.add(n + " " + Arrays.toString(s).replace(" ", "")));
        assertEquals(328, expected.size());
        assertEquals(expected, actual, "names, shapes and state-dict order");
        assertEquals(35_746_307L, UNet2DModel.parameterCount(UNetConfig.ddpmCifar10()));
    }

    @Test
    void smallFitsTwelveMegabytes() {
        long n = UNet2DModel.parameterCount(UNetConfig.small());
        System.out.println("small() parameters: " + n + " (" + 4 * n + " bytes), class-conditional: "
                + UNet2DModel.parameterCount(UNetConfig.small(true)) + "; tiny(): " + UNet2DModel.parameterCount(UNetConfig.tiny()));
        assertTrue(4 * n <= 12_000_000L, "small() is " + 4 * n + " bytes");
        Map<String, int[]> l = UNet2DModel.layout(UNetConfig.small(true));
        assertTrue(l.containsKey("class_embedding.weight"));
        assertEquals(List.of("conv_in.weight", "conv_in.bias", "time_embedding.linear_1.weight"), List.copyOf(l.keySet()).subList(0, 3));
        assertEquals(Tensor.numel(10, 128), Tensor.numel(l.get("class_embedding.weight")));
    }

    @Test
    void sizesBeyondAnyPublishedUNetAreRefusedBeforeTheModelGrowsWithThem() {
        // found by ParserFuzzTest: layers_per_block 2147483647 passed validation and the model's bookkeeping ran out of heap
        String json = UNetConfig.tiny().toJson();
        for (String[] c : new String[][]{{"\"layers_per_block\" : 1", "\"layers_per_block\" : 2147483647", "layers_per_block"},
                {"\"sample_size\" : 8", "\"sample_size\" : 1000000", "sample_size"},
                {"\"in_channels\" : 2", "\"in_channels\" : 100000000", "in_channels"}}) {
            assertTrue(json.contains(c[0]), c[0] + " in " + json);
            var e = assertThrows(IllegalArgumentException.class, () -> UNetConfig.fromJson(json.replace(c[0], c[1])));
            assertTrue(e.getMessage().startsWith(c[2]) && e.getMessage().contains("supported"), e.getMessage());
        }
    }
}
