package dev.diffuse.models.unet;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import dev.diffuse.models.io.JsonFields;

import static dev.diffuse.models.io.JsonFields.bool;
import static dev.diffuse.models.io.JsonFields.integer;
import static dev.diffuse.models.io.JsonFields.ints;
import static dev.diffuse.models.io.JsonFields.number;
import static dev.diffuse.models.io.JsonFields.strings;
import static dev.diffuse.models.io.JsonFields.text;

/**
 * The subset of diffusers {@code UNet2DModel}'s config.json this port implements (spec unet2d-diffusers.md §1),
 * with diffusers' defaults for missing keys. Supported: block types DownBlock2D / AttnDownBlock2D, UpBlock2D /
 * AttnUpBlock2D, mid block UNetMidBlock2D or none; positional (sinusoidal) time embedding; SiLU everywhere; the
 * "default" resnet time conditioning (temb added before norm2); an optional learned class-embedding table
 * ({@code num_class_embeds}); conv down/up samplers. Anything else is rejected by {@link #fromJson} with the key, the
 * value and what is supported. Unknown keys are ignored, as diffusers does.
 *
 * @param sampleSize         H = W of samples (null: unknown; pipelines then need an explicit size)
 * @param timeEmbeddingDim   MLP width T, null means 4 * block_out_channels[0] ({@link #timeDim()})
 * @param freqShift          downscale_freq_shift of the sinusoid
 * @param midBlockType       "UNetMidBlock2D" or null (no mid block)
 * @param attentionHeadDim   channels per head; null: one head over all channels of the block
 * @param attnNormNumGroups  groups of the mid attention's GroupNorm; null means norm_num_groups
 * @param numClassEmbeds     rows of the class-embedding table; null: unconditional
 * @param dropout            stored and written back; the port never applies dropout (identity, as at inference)
 */
public record UNetConfig(Integer sampleSize, int inChannels, int outChannels, boolean centerInputSample,
                         Integer timeEmbeddingDim, float freqShift, boolean flipSinToCos,
                         List<String> downBlockTypes, String midBlockType, List<String> upBlockTypes,
                         List<Integer> blockOutChannels, int layersPerBlock, float midBlockScaleFactor,
                         int downsamplePadding, Integer attentionHeadDim, int normNumGroups, float normEps,
                         Integer attnNormNumGroups, boolean addAttention, Integer numClassEmbeds, float dropout) {

    static final Set<String> DOWN = Set.of("DownBlock2D", "AttnDownBlock2D");
    static final Set<String> UP = Set.of("UpBlock2D", "AttnUpBlock2D");
    static final String MID = "UNetMidBlock2D";
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT).enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    public UNetConfig {
        downBlockTypes = List.copyOf(downBlockTypes);
        upBlockTypes = List.copyOf(upBlockTypes);
        blockOutChannels = List.copyOf(blockOutChannels);
        validate(downBlockTypes, midBlockType, upBlockTypes, blockOutChannels, layersPerBlock, inChannels, outChannels,
                normNumGroups, normEps, attentionHeadDim, attnNormNumGroups, downsamplePadding, timeEmbeddingDim,
                numClassEmbeds, sampleSize, midBlockScaleFactor);
    }

    /** Number of down (= up) blocks. */
    public int blocks() { return blockOutChannels.size(); }

    /** block_out_channels[i]. */
    public int channels(int i) { return blockOutChannels.get(i); }

    /** Time-embedding width T. */
    public int timeDim() { return timeEmbeddingDim != null ? timeEmbeddingDim : 4 * channels(0); }

    /** Heads of an attention over {@code c} channels: c / attention_head_dim, or 1 when it is null. */
    public int heads(int c) { return attentionHeadDim == null ? 1 : c / attentionHeadDim; }

    public boolean downHasAttention(int i) { return downBlockTypes.get(i).equals("AttnDownBlock2D"); }

    public boolean upHasAttention(int i) { return upBlockTypes.get(i).equals("AttnUpBlock2D"); }

    public boolean hasMid() { return midBlockType != null; }

    /** Groups of the mid attention's GroupNorm (spec §3.9: attn_norm_num_groups, else norm_num_groups). */
    public int midAttnGroups() { return attnNormNumGroups != null ? attnNormNumGroups : normNumGroups; }

    // ------------------------------------------------------------------------------------------------ presets

    /**
     * Fashion-MNIST 28x28x1: channels 32/64/128 at 28/14/7, attention at 14x14 and 7x7 (heads of 32 channels),
     * 8 groups, layers_per_block 1 (2,785,249 parameters unconditional: 11.1 MB as F32 safetensors; 2 would be
     * 4,023,233 = 16.1 MB, over the 12 MB budget), T = 128, sinusoid
     * with diffusers' library defaults (flip_sin_to_cos true, freq_shift 0), symmetric downsample padding 1
     * (28 -> 14 -> 7). With {@code classConditional}, a 10-row class-embedding table (num_class_embeds 10).
     */
    public static UNetConfig small(boolean classConditional) {
        return new UNetConfig(28, 1, 1, false, null, 0f, true,
                List.of("DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"), MID,
                List.of("AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"), List.of(32, 64, 128), 1, 1f, 1, 32, 8, 1e-5f,
                null, true, classConditional ? 10 : null, 0f);
    }

    /**
     * For latent diffusion on a VAE's (channels, size, size) latents, e.g. 4x8x8: the small U-Net's layout with channels
     * 64/64/128 at size, size/2, size/4 (attention at the two lower levels, heads of 32), about 80 MFLOP per 4x8x8
     * latent against 630 for small() on 28x28 images.
     */
    public static UNetConfig latent(int channels, int size) {
        return new UNetConfig(size, channels, channels, false, null, 0f, true,
                List.of("DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"), MID,
                List.of("AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"), List.of(64, 64, 128), 1, 1f, 1, 32, 8, 1e-5f,
                null, true, null, 0f);
    }

    /** {@link #small(boolean)} without class conditioning. */
    public static UNetConfig small() { return small(false); }

    /** google/ddpm-cifar10-32 (spec §1.1). */
    public static UNetConfig ddpmCifar10() {
        return new UNetConfig(32, 3, 3, false, null, 1f, false,
                List.of("DownBlock2D", "AttnDownBlock2D", "DownBlock2D", "DownBlock2D"), MID,
                List.of("UpBlock2D", "UpBlock2D", "AttnUpBlock2D", "UpBlock2D"), List.of(128, 256, 256, 256), 2, 1f, 0,
                null, 32, 1e-6f, null, true, null, 0f);
    }

    /**
     * For whole-model gradient checks: 8x8x2 input, channels 8/16, 4 groups, one resnet per down block, attention
     * with 2 heads of 8 at 4x4 (down, up and mid), asymmetric downsample padding 0, mid scale factor 1.5 (exercises
     * the output scaling), a 3-class embedding table, T = 32.
     */
    public static UNetConfig tiny() {
        return new UNetConfig(8, 2, 2, false, null, 1f, false, List.of("DownBlock2D", "AttnDownBlock2D"), MID,
                List.of("AttnUpBlock2D", "UpBlock2D"), List.of(8, 16), 1, 1.5f, 0, 8, 4, 1e-5f, null, true, 3, 0f);
    }

    /** A copy with another sample_size (the input's height and width). */
    public UNetConfig withSampleSize(Integer size) {
        return new UNetConfig(size, inChannels, outChannels, centerInputSample, timeEmbeddingDim, freqShift,
                flipSinToCos, downBlockTypes, midBlockType, upBlockTypes, blockOutChannels, layersPerBlock,
                midBlockScaleFactor, downsamplePadding, attentionHeadDim, normNumGroups, normEps, attnNormNumGroups,
                addAttention, numClassEmbeds, dropout);
    }

    /** A copy for images of {@code in} channels, predicting {@code out} channels. */
    public UNetConfig withChannels(int in, int out) {
        return new UNetConfig(sampleSize, in, out, centerInputSample, timeEmbeddingDim, freqShift,
                flipSinToCos, downBlockTypes, midBlockType, upBlockTypes, blockOutChannels, layersPerBlock,
                midBlockScaleFactor, downsamplePadding, attentionHeadDim, normNumGroups, normEps, attnNormNumGroups,
                addAttention, numClassEmbeds, dropout);
    }

    /** A copy with another class-embedding table size (null: unconditional). */
    public UNetConfig withNumClassEmbeds(Integer n) {
        return new UNetConfig(sampleSize, inChannels, outChannels, centerInputSample, timeEmbeddingDim, freqShift,
                flipSinToCos, downBlockTypes, midBlockType, upBlockTypes, blockOutChannels, layersPerBlock,
                midBlockScaleFactor, downsamplePadding, attentionHeadDim, normNumGroups, normEps, attnNormNumGroups,
                addAttention, n, dropout);
    }

    // ------------------------------------------------------------------------------------------------ JSON

    public static UNetConfig read(Path configJson) throws IOException { return JsonFields.read(configJson, UNetConfig::fromJson); }

    /** Parses a diffusers UNet2DModel config.json; missing keys take diffusers' defaults (spec §1). */
    public static UNetConfig fromJson(String json) {
        JsonNode n = JsonFields.configObject(json, "UNet2DModel");
        requireValue(n, "time_embedding_type", "positional", "only the sinusoidal (\"positional\") time embedding is supported");
        requireValue(n, "resnet_time_scale_shift", "default", "only \"default\" (time embedding added before norm2) is supported");
        requireValue(n, "downsample_type", "conv", "only \"conv\" downsamplers are supported");
        requireValue(n, "upsample_type", "conv", "only \"conv\" upsamplers are supported");
        if (n.hasNonNull("class_embed_type"))
            throw new IllegalArgumentException("class_embed_type = " + n.get("class_embed_type")
                    + " is not supported; use null with num_class_embeds for a learned class-embedding table");
        String act = text(n, "act_fn", "silu");
        if (!act.equals("silu") && !act.equals("swish"))
            throw new IllegalArgumentException("act_fn = \"" + act + "\" is not supported; only \"silu\" (= \"swish\") is");
        Integer sample = null;
        JsonNode s = n.get("sample_size");
        if (s != null && !s.isNull()) {
            if (s.isArray()) {
                if (s.size() != 2 || s.get(0).asInt() != s.get(1).asInt())
                    throw new IllegalArgumentException("sample_size = " + s + " is not supported; only square samples (an int or [H, H])");
                sample = s.get(0).asInt();
            } else sample = integer(n, "sample_size", null);
        }
        return new UNetConfig(sample, integer(n, "in_channels", 3), integer(n, "out_channels", 3),
                bool(n, "center_input_sample", false), integer(n, "time_embedding_dim", null),
                (float) number(n, "freq_shift", 0), bool(n, "flip_sin_to_cos", true),
                strip(strings(n, "down_block_types", List.of("DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"))),
                n.has("mid_block_type") && n.get("mid_block_type").isNull() ? null : text(n, "mid_block_type", MID),
                strip(strings(n, "up_block_types", List.of("AttnUpBlock2D", "AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"))),
                ints(n, "block_out_channels", List.of(224, 448, 672, 896)), integer(n, "layers_per_block", 2),
                (float) number(n, "mid_block_scale_factor", 1), integer(n, "downsample_padding", 1),
                n.has("attention_head_dim") ? integer(n, "attention_head_dim", null) : Integer.valueOf(8),
                integer(n, "norm_num_groups", 32), (float) number(n, "norm_eps", 1e-5),
                integer(n, "attn_norm_num_groups", null), bool(n, "add_attention", true),
                integer(n, "num_class_embeds", null), (float) number(n, "dropout", 0));
    }

    /** A config.json diffusers loads back into the same UNet2DModel (sorted keys, indent 2, as diffusers writes). */
    public String toJson() {
        Map<String, Object> m = new TreeMap<>();
        m.put("_class_name", "UNet2DModel");
        m.put("_diffusers_version", "0.30.0");
        m.put("act_fn", "silu");
        m.put("add_attention", addAttention);
        m.put("attention_head_dim", attentionHeadDim);
        m.put("attn_norm_num_groups", attnNormNumGroups);
        m.put("block_out_channels", blockOutChannels);
        m.put("center_input_sample", centerInputSample);
        m.put("class_embed_type", null);
        m.put("down_block_types", downBlockTypes);
        m.put("downsample_padding", downsamplePadding);
        m.put("downsample_type", "conv");
        m.put("dropout", (double) dropout);
        m.put("flip_sin_to_cos", flipSinToCos);
        m.put("freq_shift", num(freqShift));
        m.put("in_channels", inChannels);
        m.put("layers_per_block", layersPerBlock);
        m.put("mid_block_scale_factor", num(midBlockScaleFactor));
        m.put("mid_block_type", midBlockType);
        m.put("norm_eps", Double.parseDouble(Float.toString(normEps)));
        m.put("norm_num_groups", normNumGroups);
        m.put("num_class_embeds", numClassEmbeds);
        m.put("num_train_timesteps", null);
        m.put("out_channels", outChannels);
        m.put("resnet_time_scale_shift", "default");
        m.put("sample_size", sampleSize);
        m.put("time_embedding_dim", timeEmbeddingDim);
        m.put("time_embedding_type", "positional");
        m.put("up_block_types", upBlockTypes);
        m.put("upsample_type", "conv");
        try {
            return JSON.writeValueAsString(m) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Integral floats as JSON ints (diffusers writes freq_shift 1, mid_block_scale_factor 1). */
    private static Object num(float v) {
        return v == Math.rint(v) ? (Object) (int) v : (Object) Double.parseDouble(Float.toString(v));
    }

    // ------------------------------------------------------------------------------------------------ validation

    private static void validate(List<String> down, String mid, List<String> up, List<Integer> ch, int layers,
                                 int in, int out, int groups, float eps, Integer headDim, Integer midGroups, int pad,
                                 Integer tdim, Integer classes, Integer sample, float midScale) {
        if (ch.isEmpty()) throw new IllegalArgumentException("block_out_channels is empty; give one channel count per block");
        if (down.size() != ch.size() || up.size() != ch.size())
            throw new IllegalArgumentException("down_block_types (" + down.size() + "), up_block_types (" + up.size()
                    + ") and block_out_channels (" + ch.size() + ") must have the same length");
        for (String t : down)
            if (!DOWN.contains(t))
                throw new IllegalArgumentException("down_block_types contains \"" + t + "\"; supported: DownBlock2D, AttnDownBlock2D");
        for (String t : up)
            if (!UP.contains(t))
                throw new IllegalArgumentException("up_block_types contains \"" + t + "\"; supported: UpBlock2D, AttnUpBlock2D");
        if (mid != null && !mid.equals(MID))
            throw new IllegalArgumentException("mid_block_type = \"" + mid + "\" is not supported; use \"UNetMidBlock2D\" or null");
        if (ch.size() > MAX_BLOCKS)
            throw new IllegalArgumentException("block_out_channels has " + ch.size() + " blocks; at most " + MAX_BLOCKS + " are supported");
        positive("layers_per_block", layers);
        atMost("layers_per_block", layers, MAX_LAYERS);
        positive("in_channels", in);
        positive("out_channels", out);
        positive("norm_num_groups", groups);
        if (!(eps > 0)) throw new IllegalArgumentException("norm_eps = " + eps + " must be > 0");
        if (!(midScale > 0)) throw new IllegalArgumentException("mid_block_scale_factor = " + midScale + " must be > 0");
        if (pad < 0 || pad > 1)
            throw new IllegalArgumentException("downsample_padding = " + pad + " is not supported; use 0 (asymmetric pad) or 1");
        atMost("in_channels", in, MAX_CHANNELS);
        atMost("out_channels", out, MAX_CHANNELS);
        if (tdim != null) {
            positive("time_embedding_dim", tdim);
            atMost("time_embedding_dim", tdim, MAX_CHANNELS);
        }
        if (classes != null) {
            positive("num_class_embeds", classes);
            atMost("num_class_embeds", classes, MAX_CLASSES);
        }
        if (sample != null) {
            positive("sample_size", sample);
            atMost("sample_size", sample, MAX_SIDE);
        }
        for (int i = 0; i < ch.size(); i++) {
            int c = ch.get(i);
            positive("block_out_channels[" + i + "]", c);
            atMost("block_out_channels[" + i + "]", c, MAX_CHANNELS);
            if (c % groups != 0)
                throw new IllegalArgumentException("block_out_channels[" + i + "] = " + c + " is not divisible by norm_num_groups = " + groups);
            boolean attn = down.get(i).equals("AttnDownBlock2D") || up.get(ch.size() - 1 - i).equals("AttnUpBlock2D")
                    || (i == ch.size() - 1 && mid != null);
            if (attn && headDim != null && (headDim <= 0 || c % headDim != 0))
                throw new IllegalArgumentException("attention_head_dim = " + headDim + " does not divide block_out_channels["
                        + i + "] = " + c + ", which has attention; choose a divisor or null (one head)");
        }
        int last = ch.get(ch.size() - 1);
        if (mid != null && midGroups != null && (midGroups <= 0 || last % midGroups != 0))
            throw new IllegalArgumentException("attn_norm_num_groups = " + midGroups + " does not divide the mid block's " + last + " channels");
    }

    /**
     * Bounds far beyond any published UNet2DModel (the largest diffusers ships: 6 blocks of at most 512 channels, 2
     * layers per block, 256 x 256): a config past them is a typo or a corrupt file, and is refused before a model's
     * bookkeeping grows with it.
     */
    static final int MAX_BLOCKS = 16, MAX_LAYERS = 64, MAX_CHANNELS = 1 << 16, MAX_CLASSES = 1 << 24, MAX_SIDE = 1 << 16;

    private static void atMost(String key, int v, int max) {
        if (v > max) throw new IllegalArgumentException(key + " = " + v + " is larger than the " + max + " supported");
    }

    private static void positive(String key, int v) {
        if (v <= 0) throw new IllegalArgumentException(key + " = " + v + " must be positive");
    }

    private static void requireValue(JsonNode n, String key, String supported, String why) {
        JsonNode v = n.get(key);
        if (v != null && !v.isNull() && !v.asText().equals(supported))
            throw new IllegalArgumentException(key + " = " + v + " is not supported: " + why);
    }

    private static List<String> strip(List<String> types) {
        List<String> out = new ArrayList<>();
        for (String t : types) out.add(t.startsWith("UNetRes") ? t.substring("UNetRes".length()) : t);
        return out;
    }
}
