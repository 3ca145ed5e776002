package dev.diffuse.models.unet;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.diffuse.models.io.Safetensors;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Tensor;

/**
 * diffusers model folders (spec §5.2): {@code config.json} + {@code diffusion_pytorch_model.safetensors}, either
 * flat or in a {@code unet/} subfolder of a pipeline (model_index.json at the root), optionally sharded
 * ({@code diffusion_pytorch_model.safetensors.index.json} with a weight_map). Loading is strict like PyTorch's
 * {@code load_state_dict}: every missing, unexpected or mis-shaped tensor is named in one error. Legacy attention
 * names (diffusers <= 0.16: {@code query/key/value/proj_attn}) are accepted per attention module, as diffusers'
 * {@code _fix_state_dict_keys_on_load} does; a module with both spellings, or with neither, is an error.
 */
public final class UNetCheckpoint {
    public static final String WEIGHTS = "diffusion_pytorch_model.safetensors";
    public static final String INDEX = "diffusion_pytorch_model.safetensors.index.json";
    public static final String CONFIG = "config.json";
    private static final Map<String, String> LEGACY = Map.of("query", "to_q", "key", "to_k", "value", "to_v", "proj_attn", "to_out.0");

    private UNetCheckpoint() {}

    /** The folder holding config.json: {@code dir/unet} when it exists (pipeline layout), else {@code dir}. */
    public static Path modelFolder(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve("unet").resolve(CONFIG))) return dir.resolve("unet");
        if (Files.isRegularFile(dir.resolve(CONFIG))) return dir;
        throw new IOException(dir + ": no " + CONFIG + " (looked in " + dir + " and " + dir.resolve("unet")
                + "); give a diffusers UNet2DModel folder or a pipeline folder with a unet/ subfolder");
    }

    public static UNetConfig readConfig(Path dir) throws IOException {
        return UNetConfig.read(modelFolder(dir).resolve(CONFIG));
    }

    /** Reads the config and weights of {@code dir} into a new model on {@code device}. */
    public static UNet2DModel load(Path dir, Device device, int maxBatch, boolean training) throws IOException {
        Path folder = modelFolder(dir);
        UNetConfig cfg = UNetConfig.read(folder.resolve(CONFIG));
        UNet2DModel m = new UNet2DModel(cfg, device, maxBatch, training);
        try {
            loadWeights(m, folder);
        } catch (IOException | RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    /** Loads the weights of {@code folder} (single file or sharded) into {@code model}'s parameters. */
    public static void loadWeights(UNet2DModel model, Path folder) throws IOException {
        loadWeights(model.namedParameters(), folder);
    }

    /**
     * Loads the weights of a diffusers model folder (single file or sharded) into {@code params} (name -> tensor),
     * strictly: every missing, unexpected or mis-shaped tensor is named in one error; legacy attention names accepted.
     */
    public static void loadWeights(Map<String, Tensor> params, Path folder) throws IOException {
        Map<String, Path> files = weightFiles(folder);
        List<Safetensors.File> open = new ArrayList<>();
        try {
            Map<String, Safetensors.File> where = new HashMap<>();
            for (Path p : new TreeSet<>(files.values())) {
                Safetensors.File f = Safetensors.open(p);
                open.add(f);
                for (String n : f.names()) {
                    if (files.containsKey(n) && !files.get(n).equals(p)) continue;
                    where.put(n, f);
                }
            }
            Map<String, String> rename = resolveNames(params.keySet(), where.keySet(), folder);
            List<String> problems = new ArrayList<>();
            for (var e : params.entrySet()) {
                String src = rename.get(e.getKey());
                int[] have = where.get(src).shape(src), want = e.getValue().shape();
                if (!Arrays.equals(have, want))
                    problems.add(src + ": shape " + Arrays.toString(have) + " in the file, model expects " + Arrays.toString(want));
            }
            if (!problems.isEmpty())
                throw new IllegalArgumentException(folder + ": " + problems.size() + " tensor(s) have the wrong shape for this config:\n  "
                        + String.join("\n  ", problems));
            for (var e : params.entrySet()) {
                String src = rename.get(e.getKey());
                e.getValue().upload(where.get(src).readWeights(src));
            }
        } finally {
            for (Safetensors.File f : open) f.close();
        }
    }

    /** Writes config.json and diffusion_pytorch_model.safetensors (current diffusers names) into {@code dir}. */
    public static void save(UNet2DModel model, Path dir) throws IOException {
        Files.createDirectories(dir);
        Map<String, Safetensors.F32Tensor> t = new LinkedHashMap<>();
        for (var e : model.namedParameters().entrySet())
            t.put(e.getKey(), new Safetensors.F32Tensor(e.getValue().shape(), e.getValue().toArray()));
        Safetensors.write(dir.resolve(WEIGHTS), t, Map.of("format", "pt"));
        Path tmp = dir.resolve(CONFIG + ".tmp");
        Files.writeString(tmp, model.config().toJson());
        Files.move(tmp, dir.resolve(CONFIG), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Tensor name -> file: the single weights file, or the shards of the index's weight_map. */
    public static Map<String, Path> weightFiles(Path folder) throws IOException {
        if (Files.isRegularFile(folder.resolve(WEIGHTS))) return Map.of("", folder.resolve(WEIGHTS));
        if (Files.isRegularFile(folder.resolve(INDEX))) {
            JsonNode map = new ObjectMapper().readTree(folder.resolve(INDEX).toFile()).get("weight_map");
            if (map == null || !map.isObject()) throw new IOException(folder.resolve(INDEX) + ": no weight_map object");
            Map<String, Path> m = new TreeMap<>();
            for (var it = map.fields(); it.hasNext(); ) {
                var e = it.next();
                Path shard = folder.resolve(e.getValue().asText()).normalize();
                if (!shard.startsWith(folder.normalize()) || !Files.isRegularFile(shard))
                    throw new IOException(folder.resolve(INDEX) + ": shard " + e.getValue().asText() + " of " + e.getKey()
                            + " is not a file inside " + folder);
                m.put(e.getKey(), shard);
            }
            return m;
        }
        String bin = Files.exists(folder.resolve("diffusion_pytorch_model.bin"))
                ? "; only diffusion_pytorch_model.bin is there (PyTorch pickle): convert it to safetensors first" : "";
        throw new IOException(folder + ": no " + WEIGHTS + " nor " + INDEX + bin);
    }

    /**
     * Maps each model name to its name in the file, accepting legacy attention spellings per attention module, and
     * reports every missing and unexpected tensor at once.
     */
    public static Map<String, String> resolveNames(Iterable<String> modelNames, java.util.Set<String> fileNames, Path where) {
        Map<String, String> out = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>(), conflicts = new ArrayList<>();
        java.util.Set<String> used = new java.util.HashSet<>();
        for (String n : modelNames) {
            String legacy = legacyName(n);
            boolean cur = fileNames.contains(n), old = legacy != null && fileNames.contains(legacy);
            if (cur && old) conflicts.add(n + " and its legacy name " + legacy);
            else if (cur) out.put(n, n);
            else if (old) out.put(n, legacy);
            else missing.add(legacy != null ? n + " (or legacy " + legacy + ")" : n);
        }
        used.addAll(out.values());
        List<String> unexpected = new ArrayList<>();
        for (String f : new TreeSet<>(fileNames)) if (!used.contains(f) && !conflictMember(f, conflicts)) unexpected.add(f);
        // per attention module, one spelling: mixing (to_q with key, ...) is also rejected
        Map<String, java.util.Set<Boolean>> spelling = new TreeMap<>();
        for (var e : out.entrySet()) {
            String mod = attentionModule(e.getKey());
            if (mod != null) spelling.computeIfAbsent(mod, k -> new TreeSet<>()).add(!e.getKey().equals(e.getValue()));
        }
        for (var e : spelling.entrySet())
            if (e.getValue().size() > 1) conflicts.add(e.getKey() + " mixes current (to_q/to_k/to_v/to_out.0) and legacy (query/key/value/proj_attn) names");
        if (!missing.isEmpty() || !unexpected.isEmpty() || !conflicts.isEmpty()) {
            StringBuilder sb = new StringBuilder(where + ": the weights do not match the config:");
            if (!missing.isEmpty()) sb.append("\n  missing (").append(missing.size()).append("): ").append(String.join(", ", missing));
            if (!unexpected.isEmpty()) sb.append("\n  unexpected (").append(unexpected.size()).append("): ").append(String.join(", ", unexpected));
            if (!conflicts.isEmpty()) sb.append("\n  both spellings present: ").append(String.join("; ", conflicts));
            throw new IllegalArgumentException(sb.toString());
        }
        return out;
    }

    private static boolean conflictMember(String f, List<String> conflicts) {
        for (String c : conflicts) if (c.startsWith(f + " ") || c.endsWith(" " + f)) return true;
        return false;
    }

    /** {@code X.to_q.weight -> X.query.weight} etc. for attention parameters, else null. */
    static String legacyName(String n) {
        for (var e : LEGACY.entrySet()) {
            String cur = "." + e.getValue() + ".";
            int i = n.indexOf(cur);
            if (i > 0 && n.contains(".attentions.")) return n.substring(0, i) + "." + e.getKey() + "." + n.substring(i + cur.length());
        }
        return null;
    }

    private static String attentionModule(String n) {
        if (legacyName(n) == null) return null;
        int i = n.indexOf(".attentions.");
        int j = n.indexOf('.', i + ".attentions.".length());
        return n.substring(0, j);
    }
}
