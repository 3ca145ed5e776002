package dev.diffuse.models.train;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.diffuse.kernels.activation.Activation;
import dev.diffuse.kernels.embedding.TimestepEmbedding;
import dev.diffuse.kernels.linear.Gemm;
import dev.diffuse.kernels.linear.Linear;
import dev.diffuse.runtime.ClDevice;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.MemoryBudget;
import dev.diffuse.runtime.Philox;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;

/**
 * A small epsilon-prediction MLP for vector data (2-D mixtures) and flattened images. With x flattened to D
 * features, e = sinusoidal(t) (E features, cos first), onehot(y) over K classes (if K > 0), L = depth:
 * <pre>
 *   a_0 = x W_in^T + b_in + e W_t^T (+ onehot(y) C)     C (K, H) is the class embedding table
 *   a_l = silu(a_{l-1}) W_l^T + b_l,  l = 1 .. L-1
 *   out = silu(a_{L-1}) W_out^T + b_out
 * </pre>
 * Backward (dOut given, z_l = silu(a_{l-1})): dz_L = dOut W_out, dW_out += dOut^T z_L, db_out += colsum dOut;
 * da_{l-1} = dz_l * silu'(a_{l-1}); dz_l = da_l W_l ... down to a_0; then dW_in += da_0^T x, db_in += colsum da_0,
 * dW_t += da_0^T e, dC += onehot^T da_0, dx = da_0 W_in. Every product is a deterministic GEMM.
 *
 * <p>Initialisation as torch.nn.Linear (W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))) and nn.Embedding (N(0, 1)),
 * drawn from Philox under {@code initSeed}, one stream per parameter.
 */
public final class MlpModel implements TrainableModel {
    private static final String SRC = "dev/diffuse/models/train/mlp.cl";

    /** Architecture; {@code numClasses = 0} for an unconditional model. */
    public record Config(int[] sampleShape, int hidden, int depth, int timeEmbedDim, int numClasses) {
        public Config {
            sampleShape = sampleShape.clone();
            if (sampleShape.length == 0 || Arrays.stream(sampleShape).anyMatch(s -> s < 1))
                throw new IllegalArgumentException("MlpModel: sample shape must be non-empty and positive, got " + Arrays.toString(sampleShape));
            if (hidden < 1 || depth < 1 || timeEmbedDim < 4 || timeEmbedDim % 2 != 0 || numClasses < 0)
                throw new IllegalArgumentException("MlpModel: need hidden >= 1, depth >= 1, an even timeEmbedDim >= 4, numClasses >= 0; got hidden="
                        + hidden + " depth=" + depth + " timeEmbedDim=" + timeEmbedDim + " numClasses=" + numClasses);
        }

        /** hidden 128, 3 layers, 32 time features. */
        public static Config defaults(int[] sampleShape, int numClasses) { return new Config(sampleShape, 128, 3, 32, numClasses); }

        public int features() { return Arrays.stream(sampleShape).reduce(1, Math::multiplyExact); }
    }

    private final Device device;
    private final Config cfg;
    private final int maxBatch, d, h, e, k, depth;
    private final Workspace ws;
    private final Tensor params, grads;
    private final Map<String, Tensor> named;
    private final Tensor wIn, bIn, wT, cls, wOut, bOut, dwIn, dbIn, dwT, dCls, dwOut, dbOut;
    private final Tensor[] w, b, dw, db; // hidden layers 1..L-1 at index l-1
    // activations (maxBatch rows): emb, onehot, a[0..L-1], z (silu(a)) [1..L], scratch for dz and da
    private final Tensor emb, onehot, dz, da;
    private final Tensor[] a, z;
    private Tensor lastX, lastLabels;
    private int lastBatch = -1;

    /** Parameters of {@code cfg}: W_in, b_in, W_t, the class table, the hidden layers, W_out, b_out. */
    public static long parameterCount(Config cfg) {
        long d = cfg.features(), h = cfg.hidden();
        return h * (d + 1 + cfg.timeEmbedDim()) + (long) cfg.numClasses() * h + (cfg.depth() - 1) * h * (h + 1) + d * (h + 1);
    }

    /** The byte budget of the model's workspace (parameters, gradients, activations for maxBatch rows): an upper bound on what it allocates. */
    public static long workspaceBytes(Config cfg, int maxBatch) {
        long h = cfg.hidden();
        long actFloats = (long) maxBatch * (cfg.timeEmbedDim() + cfg.numClasses() + 2L * cfg.depth() * h + 2L * h + 4);
        return 8 * (2 * parameterCount(cfg) + actFloats) + (64L << 20);
    }

    public MlpModel(Device device, Config cfg, int maxBatch, long initSeed) {
        if (maxBatch < 1) throw new IllegalArgumentException("MlpModel: maxBatch must be >= 1, got " + maxBatch);
        this.device = device;
        this.cfg = cfg;
        this.maxBatch = maxBatch;
        this.d = cfg.features();
        this.h = cfg.hidden();
        this.e = cfg.timeEmbedDim();
        this.k = cfg.numClasses();
        this.depth = cfg.depth();
        long bytes = workspaceBytes(cfg, maxBatch);
        MemoryBudget.require(device, String.format(java.util.Locale.ROOT, "an MLP of %,d parameters for batches up to %d",
                parameterCount(cfg), maxBatch), bytes, "lower --batch");
        this.ws = new Workspace(device, "mlp model", bytes);

        Map<String, int[]> shapes = new LinkedHashMap<>();
        shapes.put("input.weight", new int[]{h, d});
        shapes.put("input.bias", new int[]{h});
        shapes.put("time_embedding.weight", new int[]{h, e});
        if (k > 0) shapes.put("class_embedding.weight", new int[]{k, h});
        for (int l = 1; l < depth; l++) {
            shapes.put("layers." + (l - 1) + ".weight", new int[]{h, h});
            shapes.put("layers." + (l - 1) + ".bias", new int[]{h});
        }
        shapes.put("output.weight", new int[]{d, h});
        shapes.put("output.bias", new int[]{d});
        int[][] sh = shapes.values().toArray(int[][]::new);
        Tensor[] p = ws.slab(sh), g = ws.slab(sh);
        params = p[0];
        grads = g[0];
        Map<String, Tensor> nm = new LinkedHashMap<>();
        Map<String, Tensor> ng = new LinkedHashMap<>();
        int i = 1;
        for (String name : shapes.keySet()) {
            nm.put(name, p[i]);
            ng.put(name, g[i]);
            i++;
        }
        named = Collections.unmodifiableMap(nm);
        wIn = nm.get("input.weight"); bIn = nm.get("input.bias"); wT = nm.get("time_embedding.weight");
        cls = nm.get("class_embedding.weight"); wOut = nm.get("output.weight"); bOut = nm.get("output.bias");
        dwIn = ng.get("input.weight"); dbIn = ng.get("input.bias"); dwT = ng.get("time_embedding.weight");
        dCls = ng.get("class_embedding.weight"); dwOut = ng.get("output.weight"); dbOut = ng.get("output.bias");
        w = new Tensor[depth - 1]; b = new Tensor[depth - 1]; dw = new Tensor[depth - 1]; db = new Tensor[depth - 1];
        for (int l = 0; l < depth - 1; l++) {
            w[l] = nm.get("layers." + l + ".weight"); b[l] = nm.get("layers." + l + ".bias");
            dw[l] = ng.get("layers." + l + ".weight"); db[l] = ng.get("layers." + l + ".bias");
        }
        initialise(initSeed, shapes);

        emb = ws.tensor(maxBatch, e);
        onehot = k > 0 ? ws.tensor(maxBatch, k) : null;
        a = new Tensor[depth];
        z = new Tensor[depth + 1];
        for (int l = 0; l < depth; l++) {
            a[l] = ws.tensor(maxBatch, h);
            z[l + 1] = ws.tensor(maxBatch, h);
        }
        dz = ws.tensor(maxBatch, h);
        da = ws.tensor(maxBatch, h);
    }

    private void initialise(long seed, Map<String, int[]> shapes) {
        float[] host = new float[Math.toIntExact(params.numel())];
        long stream = 0;
        for (var en : shapes.entrySet()) {
            Tensor t = named.get(en.getKey());
            int off = Math.toIntExact(t.offset() - params.offset()), n = Math.toIntExact(t.numel());
            if (en.getKey().startsWith("class_embedding")) {
                Philox.normals(seed, stream, 0, host, off, n);
            } else {
                int fanIn = en.getKey().endsWith(".bias") ? shapes.get(en.getKey().replace(".bias", ".weight"))[1] : en.getValue()[1];
                float bound = (float) (1 / Math.sqrt(fanIn));
                for (int j = 0; j < n; j++) host[off + j] = bound * (2 * Philox.uniform(seed, stream, j) - 1);
            }
            stream++;
        }
        params.upload(host);
    }

    /** {@code _class_name} in the config.json this model writes. */
    public static final String CLASS_NAME = "DiffuseMlp";

    /** Writes {@code folder/config.json} describing the architecture (a {@link ConfigWriter} for the trainer). */
    public void writeConfig(java.nio.file.Path folder) throws java.io.IOException {
        var json = new java.util.LinkedHashMap<String, Object>();
        json.put("_class_name", CLASS_NAME);
        json.put("sample_shape", cfg.sampleShape());
        json.put("hidden", cfg.hidden());
        json.put("depth", cfg.depth());
        json.put("time_embed_dim", cfg.timeEmbedDim());
        json.put("num_classes", cfg.numClasses());
        java.nio.file.Files.write(folder.resolve("config.json"),
                new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(json));
    }

    /** Reads the architecture back from {@code folder/config.json} written by {@link #writeConfig}. */
    public static Config readConfig(java.nio.file.Path folder) throws java.io.IOException {
        var file = folder.resolve("config.json");
        if (!java.nio.file.Files.isRegularFile(file)) throw new java.io.FileNotFoundException("no " + file + " (not a model folder?)");
        com.fasterxml.jackson.databind.JsonNode node;
        try {
            node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new java.io.IOException(file + ": invalid JSON: " + e.getOriginalMessage(), e);
        }
        if (!CLASS_NAME.equals(node.path("_class_name").asText()))
            throw new java.io.IOException(file + ": _class_name is '" + node.path("_class_name").asText() + "', not " + CLASS_NAME);
        int[] shape = new int[node.path("sample_shape").size()];
        for (int i = 0; i < shape.length; i++) shape[i] = node.path("sample_shape").get(i).asInt();
        try {
            return new Config(shape, node.path("hidden").asInt(), node.path("depth").asInt(), node.path("time_embed_dim").asInt(),
                    node.path("num_classes").asInt());
        } catch (IllegalArgumentException e) {
            throw new java.io.IOException(file + ": " + e.getMessage(), e);
        }
    }

    public Config config() { return cfg; }

    @Override public Device device() { return device; }
    @Override public Tensor parameters() { return params; }
    @Override public Tensor gradients() { return grads; }
    @Override public Map<String, Tensor> namedParameters() { return named; }
    @Override public int[] sampleShape() { return cfg.sampleShape(); }
    @Override public int maxBatch() { return maxBatch; }

    @Override public int numClasses() { return cfg.numClasses(); }

    @Override
    public synchronized void forward(Tensor out, Tensor x, Tensor timesteps, Tensor classLabels) {
        int bsz = x.dim(0);
        if (bsz < 1 || bsz > maxBatch)
            throw new IllegalArgumentException("MlpModel: batch " + bsz + " outside 1.." + maxBatch + " (the maxBatch it was built for)");
        if (x.numel() != (long) bsz * d || out.numel() != (long) bsz * d)
            throw new IllegalArgumentException("MlpModel: x " + x + " and out " + out + " must hold " + bsz + " samples of "
                    + Arrays.toString(cfg.sampleShape()));
        if (timesteps.numel() != bsz) throw new IllegalArgumentException("MlpModel: timesteps " + timesteps + " must hold " + bsz + " values");
        if (classLabels != null && classLabels.numel() != bsz)
            throw new IllegalArgumentException("MlpModel: class labels " + classLabels + " must hold " + bsz + " values");
        Tensor x2 = x.reshape(bsz, d);
        Tensor embB = emb.view(0, bsz, e);
        TimestepEmbedding.sinusoidal(embB, timesteps.reshape(bsz), true, 0f);
        Tensor a0 = a[0].view(0, bsz, h);
        Linear.forward(a0, x2, wIn, bIn);
        Gemm.gemm(a0, embB, wT, false, true, 1f, 1f);
        if (k > 0 && classLabels != null) {
            Tensor oh = onehot.view(0, bsz, k);
            onehot(oh, classLabels.reshape(bsz));
            Gemm.gemm(a0, oh, cls, false, false, 1f, 1f);
        }
        for (int l = 1; l <= depth; l++) {
            Tensor zl = z[l].view(0, bsz, h);
            Activation.silu(zl, a[l - 1].view(0, bsz, h));
            if (l < depth) Linear.forward(a[l].view(0, bsz, h), zl, w[l - 1], b[l - 1]);
            else Linear.forward(out.reshape(bsz, d), zl, wOut, bOut);
        }
        lastX = x2;
        lastLabels = k > 0 ? classLabels : null;
        lastBatch = bsz;
    }

    @Override
    public synchronized void backward(Tensor dOut, Tensor dx) {
        int bsz = lastBatch;
        if (bsz < 0) throw new IllegalStateException("MlpModel.backward before forward");
        if (dOut.numel() != (long) bsz * d) throw new IllegalArgumentException("MlpModel: dOut " + dOut + " must match the last forward's output (" + bsz + " x " + d + ")");
        Tensor dzB = dz.view(0, bsz, h), daB = da.view(0, bsz, h);
        Linear.backward(dzB, dwOut, dbOut, dOut.reshape(bsz, d), z[depth].view(0, bsz, h), wOut);
        for (int l = depth - 1; l >= 1; l--) {
            Activation.siluBackward(daB, dzB, a[l].view(0, bsz, h));
            Linear.backward(dzB, dw[l - 1], db[l - 1], daB, z[l].view(0, bsz, h), w[l - 1]);
        }
        Activation.siluBackward(daB, dzB, a[0].view(0, bsz, h));
        Linear.backward(dx == null ? null : dx.reshape(bsz, d), dwIn, dbIn, daB, lastX, wIn);
        Gemm.gemm(dwT, daB, emb.view(0, bsz, e), true, false, 1f, 1f);
        if (lastLabels != null) Gemm.gemm(dCls, onehot.view(0, bsz, k), daB, true, false, 1f, 1f);
    }

    /** out (B, K) = one-hot of labels (B); labels outside 0..K-1 give zero rows. */
    static void onehot(Tensor out, Tensor labels) {
        int bsz = out.dim(0), kk = out.dim(1);
        switch (dev.diffuse.kernels.Checks.sameDevice("onehot", out, labels)) {
            case JavaDevice j -> {
                var o = out.segment();
                var lb = labels.segment();
                for (int i = 0; i < bsz; i++) {
                    float y = lb.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i);
                    for (int c = 0; c < kk; c++) o.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, (long) i * kk + c, y == c ? 1f : 0f);
                }
            }
            case ClDevice c -> c.kernel(SRC, "onehot").launch1d((long) bsz * kk, 128, out, labels, bsz, kk);
        }
    }

    @Override
    public void close() { ws.close(); }
}
