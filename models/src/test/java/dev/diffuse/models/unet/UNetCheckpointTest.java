package dev.diffuse.models.unet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.diffuse.models.io.Safetensors;
import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;
import dev.diffuse.samplers.Denoiser;

class UNetCheckpointTest {
    @TempDir Path tmp;

    static Map<String, Safetensors.F32Tensor> tensors(UNet2DModel m) {
        Map<String, Safetensors.F32Tensor> t = new LinkedHashMap<>();
        m.namedParameters().forEach((n, v) -> t.put(n, new Safetensors.F32Tensor(v.shape(), v.toArray())));
        return t;
    }

    static void assertSameParams(UNet2DModel a, UNet2DModel b) {
        a.namedParameters().forEach((n, v) -> assertArrayEquals(v.toArray(), b.namedParameters().get(n).toArray(), n));
    }

    @Test
    void saveLoadRoundTripFlatAndPipelineLayout() throws Exception {
        Device j = TestDevices.java();
        try (UNet2DModel m = new UNet2DModel(UNetConfig.tiny(), j, 2)) {
            m.initialize(4);
            UNetCheckpoint.save(m, tmp.resolve("flat"));
            assertEquals(UNetConfig.tiny(), UNetConfig.read(tmp.resolve("flat/config.json")));
            try (UNet2DModel l = UNetCheckpoint.load(tmp.resolve("flat"), j, 2, false)) {
                assertSameParams(m, l);
            }
            UNetCheckpoint.save(m, tmp.resolve("pipe/unet"));
            Files.writeString(tmp.resolve("pipe/model_index.json"), "{\"_class_name\": \"DDPMPipeline\", \"unet\": [\"diffusers\", \"UNet2DModel\"]}");
            try (UNet2DModel l = UNetCheckpoint.load(tmp.resolve("pipe"), j, 1, true)) {
                assertSameParams(m, l);
            }
            // sharded: two files and an index
            Path sh = tmp.resolve("sharded");
            Files.createDirectories(sh);
            Files.writeString(sh.resolve("config.json"), m.config().toJson());
            Map<String, Safetensors.F32Tensor> a = new LinkedHashMap<>(), b = new LinkedHashMap<>();
            StringBuilder idx = new StringBuilder("{\"metadata\": {}, \"weight_map\": {");
            int k = 0;
            for (var e : tensors(m).entrySet()) {
                String f = (k % 2 == 0) ? "diffusion_pytorch_model-00001-of-00002.safetensors" : "diffusion_pytorch_model-00002-of-00002.safetensors";
                (k % 2 == 0 ? a : b).put(e.getKey(), e.getValue());
                idx.append(k++ == 0 ? "" : ",").append('"').append(e.getKey()).append("\": \"").append(f).append('"');
            }
            Safetensors.write(sh.resolve("diffusion_pytorch_model-00001-of-00002.safetensors"), a, Map.of());
            Safetensors.write(sh.resolve("diffusion_pytorch_model-00002-of-00002.safetensors"), b, Map.of());
            Files.writeString(sh.resolve(UNetCheckpoint.INDEX), idx.append("}}").toString());
            try (UNet2DModel l = UNetCheckpoint.load(sh, j, 1, false)) {
                assertSameParams(m, l);
            }
        }
    }

    @Test
    void legacyAttentionNamesAndStrictErrors() throws Exception {
        Device j = TestDevices.java();
        try (UNet2DModel m = new UNet2DModel(UNetConfig.tiny(), j, 1)) {
            m.initialize(5);
            Map<String, Safetensors.F32Tensor> cur = tensors(m);
            Map<String, Safetensors.F32Tensor> legacy = new LinkedHashMap<>();
            cur.forEach((n, v) -> legacy.put(UNetCheckpoint.legacyName(n) != null ? UNetCheckpoint.legacyName(n) : n, v));
            assertTrue(legacy.containsKey("mid_block.attentions.0.proj_attn.weight"));
            assertTrue(legacy.containsKey("down_blocks.1.attentions.0.query.bias"));
            try (UNet2DModel l = loadWith(legacy, m.config())) {
                assertSameParams(m, l);
            }
            // mixed spellings inside one module
            Map<String, Safetensors.F32Tensor> mixed = new LinkedHashMap<>(cur);
            mixed.put("mid_block.attentions.0.query.weight", mixed.remove("mid_block.attentions.0.to_q.weight"));
            mixed.put("mid_block.attentions.0.query.bias", mixed.remove("mid_block.attentions.0.to_q.bias"));
            expect(mixed, m.config(), "mid_block.attentions.0 mixes");
            // both spellings of one tensor
            Map<String, Safetensors.F32Tensor> both = new LinkedHashMap<>(cur);
            both.put("mid_block.attentions.0.key.weight", both.get("mid_block.attentions.0.to_k.weight"));
            expect(both, m.config(), "both spellings", "mid_block.attentions.0.key.weight");
            // missing and unexpected, all named
            Map<String, Safetensors.F32Tensor> bad = new LinkedHashMap<>(cur);
            bad.remove("conv_out.bias");
            bad.remove("up_blocks.0.resnets.1.conv_shortcut.weight");
            bad.put("time_proj.weight", new Safetensors.F32Tensor(new int[]{8}, new float[8]));
            expect(bad, m.config(), "missing (2)", "conv_out.bias", "up_blocks.0.resnets.1.conv_shortcut.weight",
                    "unexpected (1)", "time_proj.weight");
            // shape mismatch
            Map<String, Safetensors.F32Tensor> shape = new LinkedHashMap<>(cur);
            shape.put("conv_in.weight", new Safetensors.F32Tensor(new int[]{8, 2, 1, 9}, new float[144]));
            expect(shape, m.config(), "conv_in.weight", "[8, 2, 1, 9]", "[8, 2, 3, 3]");
        }
    }

    private UNet2DModel loadWith(Map<String, Safetensors.F32Tensor> t, UNetConfig cfg) throws Exception {
        Path d = Files.createTempDirectory(tmp, "m");
        Files.writeString(d.resolve("config.json"), cfg.toJson());
        Safetensors.write(d.resolve(UNetCheckpoint.WEIGHTS), t, Map.of("format", "pt"));
        return UNetCheckpoint.load(d, TestDevices.java(), 1, false);
    }

    private void expect(Map<String, Safetensors.F32Tensor> t, UNetConfig cfg, String... parts) {
        var e = assertThrows(IllegalArgumentException.class, () -> loadWith(t, cfg).close());
        for (String p : parts) assertTrue(e.getMessage().contains(p), () -> "'" + e.getMessage() + "' lacks '" + p + "'");
    }

    /** The denoiser runs any batch in chunks of maxBatch and matches a direct forward at the same timestep. */
    @Test
    void denoiserChunksAndUNetForwardFiles() throws Exception {
        Device j = TestDevices.java();
        UNetConfig cfg = UNetConfig.tiny();
        int n = 5;
        float[] x = Close.randn(3, n * 128), labels = {0, 1, 2, 1, 0};
        float[] direct;
        try (UNet2DModel big = new UNet2DModel(cfg, j, n, false); Tensor xt = Tensor.of(j, x, n, 2, 8, 8);
             Tensor t = Tensor.of(j, new float[]{250, 250, 250, 250, 250}, n); Tensor l = Tensor.of(j, labels, n);
             Tensor out = Tensor.allocate(j, n, 2, 8, 8)) {
            big.initialize(8);
            big.forward(out, xt, t, l);
            direct = out.toArray();
            UNetCheckpoint.save(big, tmp.resolve("m"));
        }
        try (UNet2DModel small = UNetCheckpoint.load(tmp.resolve("m"), j, 2, false); Tensor xt = Tensor.of(j, x, n, 2, 8, 8);
             Tensor l = Tensor.of(j, labels, n); Tensor out = Tensor.allocate(j, n, 2, 8, 8);
             UNetDenoiser d = new UNetDenoiser(small, l)) {
            assertEquals(Denoiser.Prediction.EPSILON, d.prediction());
            d.predict(out, xt, new Denoiser.NoiseLevel(0.5, 0.8, 250));
            assertArrayEquals(direct, out.toArray(), "chunked (2+2+1) vs one batch of 5");
        }
        Path in = tmp.resolve("in.safetensors"), outFile = tmp.resolve("out.safetensors");
        Safetensors.write(in, Map.of("sample", new Safetensors.F32Tensor(new int[]{n, 2, 8, 8}, x),
                "timestep", new Safetensors.F32Tensor(new int[]{1}, new float[]{250}),
                "class_labels", new Safetensors.F32Tensor(new int[]{n}, labels)), Map.of());
        assertArrayEquals(new int[]{n, 2, 8, 8}, UNetForward.run(tmp.resolve("m"), in, outFile, j));
        try (Safetensors.File f = Safetensors.open(outFile)) {
            assertArrayEquals(direct, f.readF32("output"));
        }
        Safetensors.write(in, Map.of("sample", new Safetensors.F32Tensor(new int[]{n, 2, 8, 8}, x),
                "timestep", new Safetensors.F32Tensor(new int[]{1}, new float[]{250}),
                "class_labels", new Safetensors.F32Tensor(new int[]{n}, new float[]{0, 1, 7, 1, 0})), Map.of());
        var e = assertThrows(IllegalArgumentException.class, () -> UNetForward.run(tmp.resolve("m"), in, outFile, j));
        assertTrue(e.getMessage().contains("class_labels[2] = 7.0"), e.getMessage());
        Safetensors.write(in, Map.of("sample", new Safetensors.F32Tensor(new int[]{n, 3, 8, 8}, new float[n * 192]),
                "timestep", new Safetensors.F32Tensor(new int[]{n}, new float[n])), Map.of());
        e = assertThrows(IllegalArgumentException.class, () -> UNetForward.run(tmp.resolve("m"), in, outFile, j));
        assertTrue(e.getMessage().contains("3 channels"), e.getMessage());
        Safetensors.write(in, Map.of("x", new Safetensors.F32Tensor(new int[]{1}, new float[1])), Map.of());
        e = assertThrows(IllegalArgumentException.class, () -> UNetForward.run(tmp.resolve("m"), in, outFile, j));
        assertTrue(e.getMessage().contains("\"sample\""), e.getMessage());
    }
}
