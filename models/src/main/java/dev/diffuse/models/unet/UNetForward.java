package dev.diffuse.models.unet;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeSet;

import dev.diffuse.models.io.Safetensors;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.MemoryBudget;
import dev.diffuse.runtime.Tensor;

/**
 * One U-Net forward from files, for {@code diffuse forward --model DIR --input in.safetensors --out out.safetensors}
 * (e.g. parity checks against PyTorch): the input file holds {@code sample} (B, C, H, W), {@code timestep} (B), or
 * one value for the whole batch, and for a class-conditional model {@code class_labels} (B); the output file holds
 * {@code output} (B, out_channels, H, W). Timesteps are used as given (diffusers calls {@code timesteps.float()}); timesteps
 * and class labels may be stored as floats or integers (PyTorch writes I64). Memory for the model, the input and the
 * output is checked before anything is allocated.
 */
public final class UNetForward {
    /** Largest batch run at once; bigger inputs are run in chunks. */
    public static final int MAX_CHUNK = 64;

    private UNetForward() {}

    /** Loads the model in {@code modelDir}, runs {@code input}, writes {@code output}; returns the output shape. */
    public static int[] run(Path modelDir, Path input, Path output, Device device) throws IOException {
        float[] sample, steps, labels = null;
        int[] shape;
        try (Safetensors.File in = Safetensors.open(input)) {
            if (!in.has("sample"))
                throw new IllegalArgumentException(input + ": no tensor named \"sample\" (found " + new TreeSet<>(in.names())
                        + "); write the noisy input as sample (B, C, H, W), with timestep (B) and optionally class_labels (B)");
            if (!in.has("timestep"))
                throw new IllegalArgumentException(input + ": no tensor named \"timestep\"; write one timestep per sample (B) or one for all");
            shape = in.shape("sample");
            if (shape.length != 4 || shape[0] < 1)
                throw new IllegalArgumentException(input + ": sample has shape " + Arrays.toString(shape) + "; it must be (B, C, H, W)");
            sample = in.readF32("sample");
            dev.diffuse.models.io.Safetensors.requireFinite(input + ": sample " + Arrays.toString(shape), sample,
                    "the U-Net's output would be NaN; check how the file was written");
            float[] t = in.readNumbers("timestep");
            int b = shape[0];
            if (t.length == 1) {
                steps = new float[b];
                Arrays.fill(steps, t[0]);
            } else if (t.length == b) steps = t;
            else throw new IllegalArgumentException(input + ": timestep has " + t.length + " values for a batch of " + b
                    + "; give " + b + " or 1");
            if (in.has("class_labels")) {
                labels = in.readNumbers("class_labels");
                if (labels.length != b)
                    throw new IllegalArgumentException(input + ": class_labels has " + labels.length + " values for a batch of " + b);
            }
            for (String n : in.names())
                if (!n.equals("sample") && !n.equals("timestep") && !n.equals("class_labels"))
                    throw new IllegalArgumentException(input + ": unexpected tensor \"" + n + "\"; only sample, timestep and class_labels are read");
        }
        UNetConfig cfg = UNetCheckpoint.readConfig(modelDir);
        int b = shape[0];
        if (shape[1] != cfg.inChannels())
            throw new IllegalArgumentException(input + ": sample has " + shape[1] + " channels, the model's in_channels is " + cfg.inChannels());
        if (shape[2] != shape[3])
            throw new IllegalArgumentException(input + ": sample is " + shape[2] + "x" + shape[3] + "; only square samples are supported");
        if (cfg.sampleSize() == null || cfg.sampleSize() != shape[2]) cfg = cfg.withSampleSize(shape[2]);
        if (cfg.numClassEmbeds() != null && labels == null)
            throw new IllegalArgumentException(input + ": the model is class-conditional (num_class_embeds = " + cfg.numClassEmbeds()
                    + "); add class_labels (B) with ids 0.." + (cfg.numClassEmbeds() - 1));
        if (cfg.numClassEmbeds() == null && labels != null)
            throw new IllegalArgumentException(input + ": class_labels given but the model has no class embedding; remove them");
        if (labels != null)
            for (int i = 0; i < b; i++)
                if (labels[i] != Math.rint(labels[i]) || labels[i] < 0 || labels[i] >= cfg.numClassEmbeds())
                    throw new IllegalArgumentException(input + ": class_labels[" + i + "] = " + labels[i]
                            + " is not an integer in 0.." + (cfg.numClassEmbeds() - 1));
        for (int i = 0; i < b; i++)
            if (!Float.isFinite(steps[i])) throw new IllegalArgumentException(input + ": timestep[" + i + "] = " + steps[i] + " is not finite");
        int oc = cfg.outChannels();
        long outValues = (long) b * oc * shape[2] * shape[3];
        String what = "forward of " + input + " " + Arrays.toString(shape);
        MemoryBudget.requireHostArray(what, outValues, 4, "split the batch into smaller files");
        long model = UNet2DModel.bytesNeeded(cfg, Math.min(b, MAX_CHUNK), false), io = 4 * (Tensor.numel(shape) + outValues + 2L * b);
        MemoryBudget.require(device, String.format(java.util.Locale.ROOT, "%s (U-Net %s, input and output %s)", what,
                model < 0 ? "more than 8 EiB" : MemoryBudget.size(model), MemoryBudget.size(io)), model < 0 ? -1 : model + io,
                "use smaller images or fewer per file");
        float[] result;
        try (UNet2DModel m = new UNet2DModel(cfg, device, Math.min(b, MAX_CHUNK), false)) {
            UNetCheckpoint.loadWeights(m, UNetCheckpoint.modelFolder(modelDir));
            try (Tensor x = Tensor.of(device, sample, shape); Tensor t = Tensor.of(device, steps, b);
                 Tensor l = labels == null ? null : Tensor.of(device, labels, b);
                 Tensor out = Tensor.allocate(device, b, oc, shape[2], shape[3])) {
                UNetDenoiser.forwardChunked(m, out, x, t, l, false);
                result = out.toArray();
            }
        }
        int[] os = {b, oc, shape[2], shape[3]};
        Safetensors.write(output, Map.of("output", new Safetensors.F32Tensor(os, result)), Map.of("format", "pt"));
        return os;
    }
}
