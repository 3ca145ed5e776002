package dev.diffuse.spark;

import java.io.Serializable;

import dev.diffuse.pipeline.SampleRequest;

/**
 * One generation job: a model, the request every image belongs to (its seed and sampler settings, resolved on the
 * driver so that no executor picks its own defaults), how the work is cut and what each row holds.
 * <pre>{@code
 * GenerateSpec spec = new GenerateSpec(ModelRef.of(Path.of("pretrained/fashion-mnist-small")),
 *         SampleRequest.builder().n(100_000).seed(7).sampler("ddim").steps(25).build(), "auto", 64, 0, 256, false);
 * }</pre>
 *
 * @param model      the model and its hash
 * @param request    the whole run: n images 0..n-1 of (seed, sampler, steps, eta, clip, class, guidance)
 * @param device     device spec on the executors ("auto": the GPU Spark assigned, else an OpenCL GPU, else Java)
 * @param maxBatch   images per batched forward on an executor
 * @param partitions tasks the index range is cut into; 0 = Spark's default parallelism
 * @param chunk      images one pipeline request of a task covers (the task's memory: chunk images at a time)
 * @param withTensor also store each image's floats (the exact values; PNG holds 8 bits per value)
 */
public record GenerateSpec(ModelRef model, SampleRequest request, String device, int maxBatch, int partitions, int chunk, boolean withTensor)
        implements Serializable {
    public GenerateSpec {
        if (model == null || request == null) throw new IllegalArgumentException("generate: model and request must be set");
        if (maxBatch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + maxBatch);
        if (partitions < 0) throw new IllegalArgumentException("--partitions must be at least 1 (or 0 for Spark's default), got " + partitions);
        if (chunk < 1) throw new IllegalArgumentException("--chunk must be at least 1, got " + chunk);
        if (request.firstIndex() != 0) throw new IllegalArgumentException("generate: the run starts at image 0; ranges are the job's to cut");
    }
}
