package dev.diffuse.models.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.diffuse.models.io.Safetensors;
import dev.diffuse.runtime.Tensor;

/**
 * Starting a training run from another model's weights (fine-tuning), e.g. a class-conditional U-Net from the
 * unconditional one of the same architecture: every parameter the source has with the same name and shape is copied;
 * the others keep their fresh initialisation, except a class-embedding table, which starts at zero, so that the new
 * network computes exactly what the source did (the class embedding is added to the time embedding) until training
 * moves it.
 */
public final class WeightInit {
    private WeightInit() {}

    /**
     * Copies the matching tensors of {@code folder}'s {@code diffusion_pytorch_model.safetensors} into {@code model}'s
     * parameters and returns the names of the parameters the source did not have.
     * <pre>{@code
     * List<String> fresh = WeightInit.fromWeights(model, Path.of("pretrained/fashion-mnist-small"));   // [class_embedding.weight]
     * }</pre>
     *
     * @throws IOException when the file is missing, a tensor of the source has another shape or no counterpart (a
     *                     different architecture), or nothing matched
     */
    public static List<String> fromWeights(TrainableModel model, Path folder) throws IOException {
        Path file = Files.isDirectory(folder) ? folder.resolve(Checkpoints.WEIGHTS) : folder;
        if (!Files.isRegularFile(file)) throw new java.io.FileNotFoundException("no model weights to start from: " + file + " does not exist");
        Tensor params = model.parameters();
        float[] host = params.toArray();
        List<String> fresh = new ArrayList<>(), problems = new ArrayList<>();
        try (var f = Safetensors.open(file)) {
            for (String n : f.names()) {
                var p = model.namedParameters().get(n);
                if (p == null) problems.add("the model has no " + n);
                else if (!Arrays.equals(f.shape(n), p.shape()))
                    problems.add(n + " is " + Arrays.toString(f.shape(n)) + " there, " + Arrays.toString(p.shape()) + " in the model");
            }
            if (!problems.isEmpty())
                throw new IOException(file + " is not the same architecture: " + String.join("; ", problems.subList(0, Math.min(4, problems.size())))
                        + (problems.size() > 4 ? "; ... " + (problems.size() - 4) + " more" : ""));
            for (var e : model.namedParameters().entrySet()) {
                int at = Math.toIntExact(e.getValue().offset() - params.offset());
                if (f.has(e.getKey())) {
                    float[] v = f.readF32(e.getKey());
                    System.arraycopy(v, 0, host, at, v.length);
                } else {
                    fresh.add(e.getKey());
                    if (e.getKey().startsWith("class_embedding")) Arrays.fill(host, at, at + Math.toIntExact(e.getValue().numel()), 0f);
                }
            }
        }
        if (fresh.size() == model.namedParameters().size()) throw new IOException(file + " holds none of the model's parameters");
        params.upload(host);
        return fresh;
    }
}
