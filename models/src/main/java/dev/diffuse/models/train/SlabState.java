package dev.diffuse.models.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.diffuse.models.io.Safetensors;
import dev.diffuse.runtime.Tensor;

/**
 * Checkpoint folders of trainers whose state is a few slabs of a model's layout (parameters, EMA or target weights,
 * Adam moments) plus metadata:
 * <pre>
 *   diffusion_pytorch_model.safetensors   one slab (the weights to sample with) under the model's names
 *   (extra files)                         config.json, objective.json, ... written by the caller
 *   training_state.safetensors            every slab flat under its name, and metadata: format, step, model (class),
 *                                         layout (name -> shape, checked on load), loss histories, whatever the
 *                                         trainer adds
 * </pre>
 * written atomically ({@link CheckpointFolders#writeAtomically}), read back bit for bit so training resumes exactly. A slab
 * holding a NaN or an infinity is never written ({@link TrainingDivergedException}).
 */
public final class SlabState {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SlabState() {}

    /**
     * Writes {@code folder}: {@code weights} (a slab of the model's layout) as the model file, {@code extras} (may be
     * null), and the state with {@code slabs} and {@code meta} (format, step and model are added), after checking every
     * value is finite ({@code lr} only goes into the message of a {@link TrainingDivergedException}).
     */
    public static void save(Path folder, Parameterized model, String format, int step, Tensor weights, Map<String, Tensor> slabs,
                            Map<String, String> meta, ConfigWriter extras, double lr) throws IOException {
        Map<String, Safetensors.F32Tensor> state = new LinkedHashMap<>();
        Path runFolder = folder.toAbsolutePath().getParent();
        for (var e : slabs.entrySet()) {
            float[] v = e.getValue().toArray();
            TrainingDivergedException.checkSlab(v, e.getKey() + " slab", step, runFolder, lr);
            state.put(e.getKey(), new Safetensors.F32Tensor(new int[]{v.length}, v));
        }
        float[] w = weights.toArray();
        TrainingDivergedException.checkSlab(w, "weights to save", step, runFolder, lr);
        Map<String, Safetensors.F32Tensor> named = Checkpoints.namedSlices(model, w, "");
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", format);
        m.put("step", Integer.toString(step));
        m.put("model", model.getClass().getName());
        m.put("layout", layout(model));
        m.putAll(meta);
        CheckpointFolders.writeAtomically(folder, tmp -> {
            Safetensors.write(tmp.resolve(Checkpoints.WEIGHTS), named, Map.of("format", "pt"));
            if (extras != null) extras.write(tmp);
            Safetensors.write(tmp.resolve(Checkpoints.STATE), state, m);
        });
    }

    /** The metadata of a state of {@code format} (checked). */
    public static Map<String, String> metadata(Path folder, String format) throws IOException {
        try (var f = Checkpoints.openState(folder, format)) {
            return Map.copyOf(f.metadata());
        }
    }

    /**
     * Uploads the slabs of a state written by {@link #save} into {@code slabs} after checking the format, the model
     * class and every slab's length; returns the metadata, with the step checked to lie in 0..maxStep.
     */
    public static Map<String, String> load(Path folder, String format, Parameterized model, Map<String, Tensor> slabs, int maxStep)
            throws IOException {
        try (var f = Checkpoints.openState(folder, format)) {
            String cls = f.metadata().get("model");
            if (!model.getClass().getName().equals(cls))
                throw new IOException("checkpoint " + folder + " was written by a " + cls + " model, not " + model.getClass().getName());
            if (!layout(model).equals(f.metadata().get("layout")))
                throw new IOException("checkpoint " + folder + " holds a model of another layout (a different model size?): "
                        + f.metadata().get("layout") + ", this model: " + layout(model));
            for (var e : slabs.entrySet()) {
                String s = e.getKey();
                long n = e.getValue().numel();
                if (!f.has(s) || f.shape(s).length != 1 || f.shape(s)[0] != n)
                    throw new IOException("checkpoint " + folder + ": slab '" + s + "' is missing or not of " + n + " values (a different model size?)");
            }
            int step = step(f.metadata(), folder, maxStep);
            lossHistory(f.metadata(), folder);
            for (var e : slabs.entrySet()) e.getValue().upload(f.readF32(e.getKey()));
            Map<String, String> meta = new LinkedHashMap<>(f.metadata());
            meta.put("step", Integer.toString(step));
            return meta;
        }
    }

    /** The model's parameter names and shapes as JSON (name -> shape), in slab order. */
    static String layout(Parameterized model) throws IOException {
        Map<String, int[]> l = new LinkedHashMap<>();
        for (var e : model.namedParameters().entrySet()) l.put(e.getKey(), e.getValue().shape());
        return JSON.writeValueAsString(l);
    }

    private static int step(Map<String, String> meta, Path folder, int maxStep) throws IOException {
        int k;
        try {
            k = Integer.parseInt(meta.getOrDefault("step", ""));
        } catch (NumberFormatException e) {
            throw new IOException(folder.resolve(Checkpoints.STATE) + ": metadata 'step' is not an integer");
        }
        if (k < 0 || k > maxStep)
            throw new IOException("checkpoint " + folder + " is at step " + k + ", beyond the configured " + maxStep + " steps; raise --steps");
        return k;
    }

    /**
     * Runs {@code body} with {@code weights} (a slab of the model's layout, e.g. the EMA or target weights) in the model's
     * parameters, keeping the training weights in {@code backup} and restoring them afterwards, also when body fails.
     */
    public static void withWeights(Parameterized model, Tensor weights, Tensor backup, Runnable body) {
        backup.copyFrom(model.parameters());
        model.parameters().copyFrom(weights);
        try {
            body.run();
        } finally {
            model.parameters().copyFrom(backup);
        }
    }

    /** Metadata entries for a loss history under {@code prefix}: prefix_steps and prefix_values as JSON arrays. */
    public static Map<String, String> lossMeta(String prefix, List<Integer> steps, List<Double> values) throws IOException {
        return Map.of(prefix + "_steps", JSON.writeValueAsString(steps), prefix + "_values", JSON.writeValueAsString(values));
    }

    /** Reads a history written by {@link #lossMeta} (empty when absent) into the two lists. */
    public static void readLoss(Map<String, String> meta, String prefix, List<Integer> steps, List<Double> values, Path folder) throws IOException {
        int[] s = JSON.readValue(meta.getOrDefault(prefix + "_steps", "[]"), int[].class);
        double[] v = JSON.readValue(meta.getOrDefault(prefix + "_values", "[]"), double[].class);
        if (s.length != v.length) throw new IOException(folder.resolve(Checkpoints.STATE) + ": " + prefix + "_steps and " + prefix + "_values differ in length");
        steps.clear();
        values.clear();
        for (int i = 0; i < s.length; i++) { steps.add(s[i]); values.add(v[i]); }
    }

    private static void lossHistory(Map<String, String> meta, Path folder) throws IOException {
        for (String k : meta.keySet())
            if (k.endsWith("_steps") && meta.containsKey(k.substring(0, k.length() - 6) + "_values"))
                readLoss(meta, k.substring(0, k.length() - 6), new java.util.ArrayList<>(), new java.util.ArrayList<>(), folder);
    }
}
