package dev.diffuse.models.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.diffuse.models.io.Safetensors;
import dev.diffuse.runtime.Tensor;

/**
 * Checkpoint folders of a {@link Trainer}:
 * <pre>
 *   checkpoint-STEP/
 *     diffusion_pytorch_model.safetensors   EMA weights under the model's names (what sampling and diffusers load)
 *     config.json                           written by the model-specific configWriter, if one is set
 *     objective.json                        epsilon or flow ({@link ModelObjective}), so samplers use the network right
 *     training_state.safetensors            param.NAME, ema.NAME, adam_m.NAME, adam_v.NAME (all F32) and metadata:
 *                                           step, seed, config (TrainConfig JSON), data_spec, model (class),
 *                                           layout (JSON name -> shape), loss_steps / loss_values (JSON arrays)
 * </pre>
 * A folder is assembled under a hidden temp name next to its destination and renamed into place only when
 * complete ({@link CheckpointFolders}), so a crash never leaves a {@code checkpoint-N} that {@link #latest} would pick
 * up half-written. Nothing non-finite is saved ({@link TrainingDivergedException}) and nothing non-finite is loaded.
 */
public final class Checkpoints {
    public static final String WEIGHTS = "diffusion_pytorch_model.safetensors";
    public static final String STATE = "training_state.safetensors";
    public static final String FORMAT = "diffuse-training-state-1";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] SLABS = {"param", "ema", "adam_m", "adam_v"};

    private Checkpoints() {}

    static void save(Trainer tr, Path folder) throws IOException {
        TrainableModel model = tr.model;
        Tensor params = model.parameters();
        float[][] host = {params.toArray(), tr.ema.toArray(), tr.m.toArray(), tr.v.toArray()};
        String[] what = {"weights", "EMA weights", "Adam first moments", "Adam second moments"};
        for (int s = 0; s < SLABS.length; s++) TrainingDivergedException.checkSlab(host[s], what[s], tr.step, tr.outputDir(), tr.cfg.lr());
        Map<String, Safetensors.F32Tensor> weights = namedSlices(model, host[1], ""), state = new LinkedHashMap<>();
        for (int s = 0; s < SLABS.length; s++) state.putAll(namedSlices(model, host[s], SLABS[s] + "."));
        Map<String, int[]> layout = new LinkedHashMap<>();
        for (var e : model.namedParameters().entrySet()) layout.put(e.getKey(), e.getValue().shape());
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("step", Integer.toString(tr.step));
        meta.put("seed", Long.toString(tr.cfg.seed()));
        meta.put("config", JSON.writeValueAsString(tr.cfg));
        meta.put("data_spec", tr.dataSpec);
        if (!tr.dataDir.isEmpty()) meta.put("data_dir", tr.dataDir);
        meta.put("model", model.getClass().getName());
        meta.put("layout", JSON.writeValueAsString(layout));
        meta.put("loss_steps", JSON.writeValueAsString(tr.lossSteps()));
        meta.put("loss_values", JSON.writeValueAsString(tr.lossValues()));

        CheckpointFolders.writeAtomically(folder, tmp -> {
            Safetensors.write(tmp.resolve(WEIGHTS), weights, Map.of("format", "pt"));
            if (tr.configWriter != null) tr.configWriter.write(tmp);
            ModelObjective.of(tr.cfg).write(tmp, tr.nullClass());
            Safetensors.write(tmp.resolve(STATE), state, meta);
        });
    }

    static TrainConfig readConfig(Path folder) throws IOException {
        try (var f = openState(folder)) {
            return JSON.readValue(meta(f, "config"), TrainConfig.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException | IllegalArgumentException e) {
            throw new IOException(folder.resolve(STATE) + ": the stored training config is invalid: " + e.getMessage(), e);
        }
    }

    static void load(Trainer tr, Path folder) throws IOException {
        if (!Files.isRegularFile(folder.resolve(WEIGHTS)))
            throw new IOException("checkpoint " + folder + " is incomplete: " + WEIGHTS + " is missing");
        TrainableModel model = tr.model;
        Tensor params = model.parameters();
        int slab = Math.toIntExact(params.numel());
        try (var f = openState(folder)) {
            String cls = meta(f, "model");
            if (!cls.equals(model.getClass().getName()))
                throw new IOException("checkpoint " + folder + " was written by a " + cls + " model, not " + model.getClass().getName());
            List<String> problems = new ArrayList<>();
            for (var e : model.namedParameters().entrySet())
                for (String s : SLABS) {
                    String name = s + "." + e.getKey();
                    if (!f.has(name)) problems.add("missing " + name);
                    else if (!Arrays.equals(f.shape(name), e.getValue().shape()))
                        problems.add(name + " is " + Arrays.toString(f.shape(name)) + ", the model has " + Arrays.toString(e.getValue().shape()));
                }
            for (String name : f.names()) {
                int dot = name.indexOf('.');
                if (dot < 0 || !model.namedParameters().containsKey(name.substring(dot + 1))) problems.add("unexpected tensor " + name);
            }
            if (!problems.isEmpty())
                throw new IOException("checkpoint " + folder + " does not match the model (a different architecture or size?): "
                        + String.join("; ", problems.subList(0, Math.min(8, problems.size())))
                        + (problems.size() > 8 ? "; ... " + (problems.size() - 8) + " more" : ""));
            int step;
            try {
                step = Integer.parseInt(meta(f, "step"));
            } catch (NumberFormatException e) {
                throw new IOException(folder.resolve(STATE) + ": metadata 'step' is not an integer");
            }
            if (step < 0 || step > tr.cfg.steps())
                throw new IOException("checkpoint " + folder + " is at step " + step + ", beyond the configured " + tr.cfg.steps()
                        + " steps; raise --steps to continue training");
            float[][] host = new float[SLABS.length][slab];
            for (var e : model.namedParameters().entrySet()) {
                int off = Math.toIntExact(e.getValue().offset() - params.offset());
                for (int s = 0; s < SLABS.length; s++) {
                    float[] vals = f.readWeights(SLABS[s] + "." + e.getKey());
                    System.arraycopy(vals, 0, host[s], off, vals.length);
                }
            }
            params.upload(host[0]);
            tr.ema.upload(host[1]);
            tr.m.upload(host[2]);
            tr.v.upload(host[3]);
            tr.step = step;
            tr.dataSpec = f.metadata().getOrDefault("data_spec", "");
            tr.dataDir = f.metadata().getOrDefault("data_dir", "");
            int[] ls = JSON.readValue(f.metadata().getOrDefault("loss_steps", "[]"), int[].class);
            double[] lv = JSON.readValue(f.metadata().getOrDefault("loss_values", "[]"), double[].class);
            if (ls.length != lv.length) throw new IOException(folder.resolve(STATE) + ": loss_steps and loss_values differ in length");
            tr.restoreLossState(ls, lv);
        }
    }

    /**
     * Loads {@code folder/diffusion_pytorch_model.safetensors} (the EMA weights, or any file with the model's names and
     * shapes; F16/BF16 are widened) into the model's parameters, e.g. to sample from a checkpoint. Every parameter
     * must be present with its shape; extra tensors are an error too (a different model).
     */
    public static void loadWeights(Parameterized model, Path folder) throws IOException {
        Path file = Files.isDirectory(folder) ? folder.resolve(WEIGHTS) : folder;
        if (!Files.isRegularFile(file)) throw new java.io.FileNotFoundException("no model weights: " + file + " does not exist");
        Tensor params = model.parameters();
        float[] host = new float[Math.toIntExact(params.numel())];
        try (var f = Safetensors.open(file)) {
            List<String> problems = new ArrayList<>();
            for (var e : model.namedParameters().entrySet()) {
                if (!f.has(e.getKey())) problems.add("missing " + e.getKey());
                else if (!Arrays.equals(f.shape(e.getKey()), e.getValue().shape()))
                    problems.add(e.getKey() + " is " + Arrays.toString(f.shape(e.getKey())) + ", the model has " + Arrays.toString(e.getValue().shape()));
            }
            for (String n : f.names()) if (!model.namedParameters().containsKey(n)) problems.add("unexpected tensor " + n);
            if (!problems.isEmpty())
                throw new IOException(file + " does not match the model: " + String.join("; ", problems.subList(0, Math.min(8, problems.size())))
                        + (problems.size() > 8 ? "; ... " + (problems.size() - 8) + " more" : ""));
            for (var e : model.namedParameters().entrySet()) {
                float[] v = f.readWeights(e.getKey());
                System.arraycopy(v, 0, host, Math.toIntExact(e.getValue().offset() - params.offset()), v.length);
            }
        }
        params.upload(host);
    }

    /** The complete {@code checkpoint-N} folder with the largest N under {@code outputDir}, or null if none ({@link CheckpointFolders#latest}). */
    static Path latest(Path outputDir) throws IOException { return CheckpointFolders.latest(outputDir); }

    /**
     * A host copy {@code slab} of a model's parameter slab (or of a slab with its layout: EMA, Adam moments, a target)
     * cut into one tensor per parameter, named {@code prefix + name}, in the model's order.
     */
    public static Map<String, Safetensors.F32Tensor> namedSlices(Parameterized model, float[] slab, String prefix) {
        long base = model.parameters().offset();
        Map<String, Safetensors.F32Tensor> out = new LinkedHashMap<>();
        for (var e : model.namedParameters().entrySet()) {
            Tensor t = e.getValue();
            int off = Math.toIntExact(t.offset() - base), n = Math.toIntExact(t.numel());
            out.put(prefix + e.getKey(), new Safetensors.F32Tensor(t.shape(), Arrays.copyOfRange(slab, off, off + n)));
        }
        return out;
    }

    private static Safetensors.File openState(Path folder) throws IOException { return openState(folder, FORMAT); }

    /** Opens {@code folder/training_state.safetensors} and checks that its metadata format is {@code format}. */
    public static Safetensors.File openState(Path folder, String format) throws IOException {
        if (!Files.isDirectory(folder)) throw new java.io.FileNotFoundException("checkpoint " + folder + " does not exist or is not a folder");
        Path state = folder.resolve(STATE);
        if (!Files.isRegularFile(state))
            throw new java.io.FileNotFoundException("checkpoint " + folder + " has no " + STATE
                    + " (a weights-only folder cannot be resumed; point at a checkpoint-N folder written by 'diffuse train')");
        Safetensors.File f = Safetensors.open(state);
        if (!format.equals(f.metadata().get("format"))) {
            f.close();
            throw new IOException(state + ": not a Diffuse training state of this kind (metadata format is " + f.metadata().get("format")
                    + ", expected " + format + ")");
        }
        return f;
    }

    /** The metadata of {@code folder/training_state.safetensors} (any trainer's format: data_spec, data_dir, step, ...). */
    public static Map<String, String> metadata(Path folder) throws IOException {
        Path state = folder.resolve(STATE);
        if (!Files.isRegularFile(state)) throw new java.io.FileNotFoundException("checkpoint " + folder + " has no " + STATE);
        try (var f = Safetensors.open(state)) {
            return new LinkedHashMap<>(f.metadata());
        }
    }

    private static String meta(Safetensors.File f, String key) throws IOException {
        String v = f.metadata().get(key);
        if (v == null) throw new IOException("training state is missing metadata '" + key + "'");
        return v;
    }
}
