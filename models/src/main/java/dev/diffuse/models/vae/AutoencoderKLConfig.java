package dev.diffuse.models.vae;

import dev.diffuse.models.io.JsonFields;

import static dev.diffuse.models.io.JsonFields.bool;
import static dev.diffuse.models.io.JsonFields.integer;
import static dev.diffuse.models.io.JsonFields.ints;
import static dev.diffuse.models.io.JsonFields.number;
import static dev.diffuse.models.io.JsonFields.strings;
import static dev.diffuse.models.io.JsonFields.text;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * diffusers {@code AutoencoderKL}'s config.json, with diffusers' defaults for missing keys. Supported: DownEncoderBlock2D
 * / UpDecoderBlock2D blocks, SiLU, GroupNorm (eps 1e-6, as diffusers' VAE hard-codes), the mid block with or without
 * its one-head attention, quant_conv / post_quant_conv present or not, latents scaled by {@code scaling_factor}.
 * Unsupported values (another activation, block type, a shift_factor, per-channel latents_mean/latents_std) are all
 * named in one error. Unknown keys are ignored, as diffusers does.
 *
 * @param sampleSize          H = W of images, e.g. 32
 * @param blockOutChannels    channels per level, e.g. [32, 64, 64]: latents are sampleSize / 2^(levels - 1) wide
 * @param layersPerBlock      resnets per encoder block (decoder blocks have one more)
 * @param latentChannels      L, e.g. 4
 * @param scalingFactor       latents for diffusion are z * scalingFactor (1 / std of z over the data; SD's 0.18215)
 * @param forceUpcast         stored and written back (the port computes in float32)
 */
public record AutoencoderKLConfig(int inChannels, int outChannels, List<String> downBlockTypes, List<String> upBlockTypes,
                                  List<Integer> blockOutChannels, int layersPerBlock, int latentChannels, int normNumGroups,
                                  int sampleSize, double scalingFactor, boolean useQuantConv, boolean usePostQuantConv,
                                  boolean midBlockAddAttention, boolean forceUpcast) {
    public static final String CLASS_NAME = "AutoencoderKL";
    /** diffusers' VAE builds every GroupNorm with eps 1e-6 (not configurable). */
    public static final float NORM_EPS = 1e-6f;
    static final String DOWN = "DownEncoderBlock2D", UP = "UpDecoderBlock2D";
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT).enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    public AutoencoderKLConfig {
        downBlockTypes = List.copyOf(downBlockTypes);
        upBlockTypes = List.copyOf(upBlockTypes);
        blockOutChannels = List.copyOf(blockOutChannels);
        List<String> bad = new ArrayList<>();
        int n = blockOutChannels.size();
        if (n == 0) bad.add("block_out_channels is empty; give one channel count per level");
        if (downBlockTypes.size() != n || upBlockTypes.size() != n)
            bad.add("down_block_types (" + downBlockTypes.size() + "), up_block_types (" + upBlockTypes.size()
                    + ") and block_out_channels (" + n + ") must have the same length");
        for (String t : downBlockTypes) if (!t.equals(DOWN)) bad.add("down_block_types contains \"" + t + "\"; only " + DOWN + " is supported");
        for (String t : upBlockTypes) if (!t.equals(UP)) bad.add("up_block_types contains \"" + t + "\"; only " + UP + " is supported");
        for (var e : Map.of("in_channels", inChannels, "out_channels", outChannels, "layers_per_block", layersPerBlock,
                "latent_channels", latentChannels, "norm_num_groups", normNumGroups, "sample_size", sampleSize).entrySet())
            if (e.getValue() <= 0) bad.add(e.getKey() + " = " + e.getValue() + " must be positive");
        for (int i = 0; i < n; i++) {
            int c = blockOutChannels.get(i);
            if (c <= 0 || (normNumGroups > 0 && c % normNumGroups != 0))
                bad.add("block_out_channels[" + i + "] = " + c + " must be a positive multiple of norm_num_groups = " + normNumGroups);
        }
        if (n > 0 && sampleSize > 0 && sampleSize % (1 << (n - 1)) != 0)
            bad.add("sample_size = " + sampleSize + " must be divisible by 2^" + (n - 1) + " (one halving per level after the first)");
        if (!(scalingFactor > 0) || Double.isInfinite(scalingFactor)) bad.add("scaling_factor = " + scalingFactor + " must be a positive number");
        if (!bad.isEmpty()) throw new IllegalArgumentException("AutoencoderKL config: " + String.join("; ", bad));
    }

    /** Number of levels (blocks). */
    public int levels() { return blockOutChannels.size(); }

    public int channels(int i) { return blockOutChannels.get(i); }

    /** Height = width of the latent: sampleSize / 2^(levels - 1). */
    public int latentSize() { return sampleSize >> (levels() - 1); }

    /** Shape of one latent (L, h, w). */
    public int[] latentShape() { return new int[]{latentChannels, latentSize(), latentSize()}; }

    /** Shape of one image (C, H, W). */
    public int[] imageShape() { return new int[]{inChannels, sampleSize, sampleSize}; }

    public AutoencoderKLConfig withScalingFactor(double s) {
        return new AutoencoderKLConfig(inChannels, outChannels, downBlockTypes, upBlockTypes, blockOutChannels, layersPerBlock,
                latentChannels, normNumGroups, sampleSize, s, useQuantConv, usePostQuantConv, midBlockAddAttention, forceUpcast);
    }

    /**
     * Fashion-MNIST padded to 32x32x1: levels of 32/64/64 channels at 32/16/8, one resnet per encoder level (two per
     * decoder level), mid block with attention at 8x8, 8 groups, latent 4x8x8 (256 numbers for 784 pixels). The
     * scaling factor is a placeholder until training measures the latents' std.
     */
    public static AutoencoderKLConfig fashionMnist() { return of(1, List.of(32, 64, 64), 1, 4, 8, 32); }

    /** For whole-model gradient checks: 2 channels at 8x8, levels of 8/16 channels, latent 3x4x4, 4 groups. */
    public static AutoencoderKLConfig tiny() { return of(2, List.of(8, 16), 1, 3, 4, 8); }

    /** A config with {@code levels} DownEncoderBlock2D/UpDecoderBlock2D levels, quant convs and mid attention on. */
    public static AutoencoderKLConfig of(int channels, List<Integer> blockOut, int layers, int latent, int groups, int size) {
        List<String> down = new ArrayList<>(), up = new ArrayList<>();
        for (int i = 0; i < blockOut.size(); i++) { down.add(DOWN); up.add(UP); }
        return new AutoencoderKLConfig(channels, channels, down, up, blockOut, layers, latent, groups, size, 1.0, true, true, true, true);
    }

    // ------------------------------------------------------------------------------------------------ JSON

    public static AutoencoderKLConfig read(Path configJson) throws IOException { return JsonFields.read(configJson, AutoencoderKLConfig::fromJson); }

    /** Parses an AutoencoderKL config.json; missing keys take diffusers' defaults; every unsupported value is named at once. */
    public static AutoencoderKLConfig fromJson(String json) {
        JsonNode n = JsonFields.configObject(json, CLASS_NAME);
        List<String> unsupported = new ArrayList<>();
        String act = text(n, "act_fn", "silu");
        if (!act.equals("silu") && !act.equals("swish")) unsupported.add("act_fn = \"" + act + "\" (only silu)");
        for (String key : new String[]{"shift_factor", "latents_mean", "latents_std"})
            if (n.hasNonNull(key)) unsupported.add(key + " = " + n.get(key) + " (only null: latents are z * scaling_factor)");
        String norm = text(n, "norm_type", "group");
        if (!norm.equals("group")) unsupported.add("norm_type = \"" + norm + "\" (only group)");
        if (!unsupported.isEmpty())
            throw new IllegalArgumentException("unsupported AutoencoderKL config value(s): " + String.join("; ", unsupported));
        return new AutoencoderKLConfig(integer(n, "in_channels", 3), integer(n, "out_channels", 3),
                strings(n, "down_block_types", List.of(DOWN)), strings(n, "up_block_types", List.of(UP)),
                ints(n, "block_out_channels", List.of(64)), integer(n, "layers_per_block", 1), integer(n, "latent_channels", 4),
                integer(n, "norm_num_groups", 32), sampleSize(n), number(n, "scaling_factor", 0.18215),
                bool(n, "use_quant_conv", true), bool(n, "use_post_quant_conv", true), bool(n, "mid_block_add_attention", true),
                bool(n, "force_upcast", true));
    }

    private static int sampleSize(JsonNode n) {
        JsonNode s = n.get("sample_size");
        if (s != null && s.isArray()) {
            if (s.size() != 2 || s.get(0).asInt() != s.get(1).asInt())
                throw new IllegalArgumentException("sample_size = " + s + " is not supported; only square images (an int or [H, H])");
            return s.get(0).asInt();
        }
        return integer(n, "sample_size", 32);
    }

    /** A config.json diffusers loads back into the same AutoencoderKL (sorted keys, indent 2). */
    public String toJson() {
        Map<String, Object> m = new TreeMap<>();
        m.put("_class_name", CLASS_NAME);
        m.put("_diffusers_version", "0.30.0");
        m.put("act_fn", "silu");
        m.put("block_out_channels", blockOutChannels);
        m.put("down_block_types", downBlockTypes);
        m.put("force_upcast", forceUpcast);
        m.put("in_channels", inChannels);
        m.put("latent_channels", latentChannels);
        m.put("latents_mean", null);
        m.put("latents_std", null);
        m.put("layers_per_block", layersPerBlock);
        m.put("mid_block_add_attention", midBlockAddAttention);
        m.put("norm_num_groups", normNumGroups);
        m.put("out_channels", outChannels);
        m.put("sample_size", sampleSize);
        m.put("scaling_factor", scalingFactor);
        m.put("shift_factor", null);
        m.put("up_block_types", upBlockTypes);
        m.put("use_post_quant_conv", usePostQuantConv);
        m.put("use_quant_conv", useQuantConv);
        try {
            return JSON.writeValueAsString(m) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
