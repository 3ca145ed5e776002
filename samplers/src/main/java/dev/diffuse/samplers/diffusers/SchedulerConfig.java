package dev.diffuse.samplers.diffusers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The keys of diffusers' scheduler_config.json that DDPMScheduler and DDIMScheduler read (spec §6), with diffusers'
 * defaults for missing keys. Unknown keys (e.g. {@code _class_name}) are ignored, as diffusers does.
 *
 * @param trainedBetas null unless the config gives {@code trained_betas}
 */
public record SchedulerConfig(int numTrainTimesteps, double betaStart, double betaEnd, String betaSchedule,
                              double[] trainedBetas, boolean clipSample, double clipSampleRange, boolean thresholding,
                              double dynamicThresholdingRatio, double sampleMaxValue, VarianceType varianceType,
                              boolean setAlphaToOne, int stepsOffset, PredictionType predictionType,
                              Spacing timestepSpacing, boolean rescaleBetasZeroSnr) {

    public enum PredictionType {
        EPSILON("epsilon"), SAMPLE("sample"), V_PREDICTION("v_prediction");
        final String key;
        PredictionType(String k) { key = k; }
        public String key() { return key; }
    }

    /** DDPM's variance_type; "fixed_large_log" is rejected (diffusers takes sqrt of a log there, giving NaN). */
    public enum VarianceType {
        FIXED_SMALL("fixed_small"), FIXED_SMALL_LOG("fixed_small_log"), FIXED_LARGE("fixed_large"),
        LEARNED("learned"), LEARNED_RANGE("learned_range");
        final String key;
        VarianceType(String k) { key = k; }
        public String key() { return key; }
        public boolean learned() { return this == LEARNED || this == LEARNED_RANGE; }
    }

    public enum Spacing {
        LEADING("leading"), TRAILING("trailing"), LINSPACE("linspace");
        final String key;
        Spacing(String k) { key = k; }
        public String key() { return key; }
    }

    public static final List<String> BETA_SCHEDULES = List.of("linear", "scaled_linear", "squaredcos_cap_v2", "sigmoid");

    public SchedulerConfig {
        if (numTrainTimesteps < 2) throw new IllegalArgumentException("num_train_timesteps must be >= 2, got " + numTrainTimesteps);
        if (trainedBetas == null && !BETA_SCHEDULES.contains(betaSchedule))
            throw new IllegalArgumentException("beta_schedule '" + betaSchedule + "' is not supported: use one of " + BETA_SCHEDULES
                    + " or give trained_betas (\"laplace\" is not implemented)");
        if (trainedBetas != null && trainedBetas.length != numTrainTimesteps)
            throw new IllegalArgumentException("trained_betas has " + trainedBetas.length + " entries but num_train_timesteps is " + numTrainTimesteps);
        if (!(dynamicThresholdingRatio >= 0 && dynamicThresholdingRatio <= 1))
            throw new IllegalArgumentException("dynamic_thresholding_ratio must be in [0, 1], got " + dynamicThresholdingRatio);
        if (!(sampleMaxValue >= 1)) throw new IllegalArgumentException("sample_max_value must be >= 1 (the threshold is clamped to [1, max]), got " + sampleMaxValue);
        if (!(clipSampleRange > 0)) throw new IllegalArgumentException("clip_sample_range must be > 0, got " + clipSampleRange);
        if (stepsOffset < 0) throw new IllegalArgumentException("steps_offset must be >= 0, got " + stepsOffset);
        trainedBetas = trainedBetas == null ? null : trainedBetas.clone();
    }

    /** diffusers' defaults (DDPMScheduler() / DDIMScheduler()). */
    public static SchedulerConfig defaults() { return fromMap(Map.of()); }

    public static SchedulerConfig fromJson(String json) {
        if (!(Json.parse(json) instanceof Map<?, ?> m))
            throw new IllegalArgumentException("scheduler config JSON must be an object like {\"beta_schedule\": \"linear\", ...}");
        @SuppressWarnings("unchecked") Map<String, Object> map = (Map<String, Object>) m;
        return fromMap(map);
    }

    public static SchedulerConfig fromFile(Path path) throws IOException { return fromJson(Files.readString(path)); }

    /** From parsed JSON (numbers as any Number, trained_betas as a List of numbers or null). */
    public static SchedulerConfig fromMap(Map<String, ?> m) {
        double[] trained = null;
        if (m.get("trained_betas") instanceof List<?> l)
            trained = l.stream().mapToDouble(o -> num(o, "trained_betas entry")).toArray();
        else if (m.get("trained_betas") instanceof double[] d) trained = d;
        return new SchedulerConfig(
                (int) num(m, "num_train_timesteps", 1000), num(m, "beta_start", 1e-4), num(m, "beta_end", 0.02),
                str(m, "beta_schedule", "linear"), trained, bool(m, "clip_sample", true), num(m, "clip_sample_range", 1.0),
                bool(m, "thresholding", false), num(m, "dynamic_thresholding_ratio", 0.995), num(m, "sample_max_value", 1.0),
                pick(VarianceType.values(), str(m, "variance_type", "fixed_small"), "variance_type", VarianceType::key),
                bool(m, "set_alpha_to_one", true), (int) num(m, "steps_offset", 0),
                pick(PredictionType.values(), str(m, "prediction_type", "epsilon"), "prediction_type", PredictionType::key),
                pick(Spacing.values(), str(m, "timestep_spacing", "leading"), "timestep_spacing", Spacing::key),
                bool(m, "rescale_betas_zero_snr", false));
    }

    /** The config as diffusers' keys (for {@link #with} and for writing it back). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("num_train_timesteps", numTrainTimesteps);
        m.put("beta_start", betaStart);
        m.put("beta_end", betaEnd);
        m.put("beta_schedule", betaSchedule);
        m.put("trained_betas", trainedBetas == null ? null : Arrays.stream(trainedBetas).boxed().toList());
        m.put("clip_sample", clipSample);
        m.put("clip_sample_range", clipSampleRange);
        m.put("thresholding", thresholding);
        m.put("dynamic_thresholding_ratio", dynamicThresholdingRatio);
        m.put("sample_max_value", sampleMaxValue);
        m.put("variance_type", varianceType.key);
        m.put("set_alpha_to_one", setAlphaToOne);
        m.put("steps_offset", stepsOffset);
        m.put("prediction_type", predictionType.key);
        m.put("timestep_spacing", timestepSpacing.key);
        m.put("rescale_betas_zero_snr", rescaleBetasZeroSnr);
        return m;
    }

    /** A copy with one diffusers key replaced, e.g. {@code with("prediction_type", "v_prediction")}. */
    public SchedulerConfig with(String key, Object value) {
        Map<String, Object> m = toMap();
        if (!m.containsKey(key)) throw new IllegalArgumentException("unknown scheduler config key '" + key + "': use one of " + m.keySet());
        m.put(key, value);
        return fromMap(m);
    }

    private static double num(Object o, String what) {
        if (o instanceof Number n) return n.doubleValue();
        throw new IllegalArgumentException("scheduler config: " + what + " must be a number, got " + o);
    }

    private static double num(Map<String, ?> m, String key, double def) {
        Object o = m.get(key);
        return o == null ? def : num(o, key);
    }

    private static boolean bool(Map<String, ?> m, String key, boolean def) {
        Object o = m.get(key);
        if (o == null) return def;
        if (o instanceof Boolean b) return b;
        throw new IllegalArgumentException("scheduler config: " + key + " must be true or false, got " + o);
    }

    private static String str(Map<String, ?> m, String key, String def) {
        Object o = m.get(key);
        if (o == null) return def;
        if (o instanceof String s) return s;
        throw new IllegalArgumentException("scheduler config: " + key + " must be a string, got " + o);
    }

    private static <E> E pick(E[] values, String name, String key, java.util.function.Function<E, String> k) {
        String n = name.toLowerCase(Locale.ROOT);
        for (E e : values) if (k.apply(e).equals(n)) return e;
        throw new IllegalArgumentException("scheduler config: " + key + " '" + name + "' is not supported: use one of "
                + Arrays.stream(values).map(k).toList());
    }

    @Override public boolean equals(Object o) {
        return o instanceof SchedulerConfig c && toMap().equals(c.toMap());
    }

    @Override public int hashCode() { return toMap().hashCode(); }
}
