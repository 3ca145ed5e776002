package dev.diffuse.pipeline;

import java.nio.file.Path;

import dev.diffuse.models.train.ModelObjective;

/**
 * What a loaded pipeline serves.
 * <pre>{@code
 * ModelInfo m = pipeline.info();
 * System.out.println(m.folder() + ": " + m.objective().label() + ", default " + m.defaultSampler() + " " + m.defaultSteps());
 * }</pre>
 *
 * @param folder         the model folder (a run folder resolved to its latest checkpoint)
 * @param modelClass     config.json's _class_name (UNet2DModel or DiffuseMlp)
 * @param objective      epsilon, flow or consistency (objective.json)
 * @param sampleShape    one sample as the caller gets it, e.g. {1, 28, 28} (for a latent model: the decoded image)
 * @param numClasses     class-embedding rows (0: unconditional); includes the null class when there is one
 * @param nullClass      the class id meaning "no class" (classifier-free guidance), -1 when the model has none
 * @param parameters     parameter count
 * @param maxBatch       images per batched forward
 * @param defaultSampler the sampler used when a request names none
 * @param defaultSteps   the steps used when a request gives none
 * @param deviceBytes    device memory the pipeline holds or may hold (model, denoiser staging, one batch)
 * @param latentShape    for a latent diffusion model (latent.json), the network's sample shape, e.g. {4, 8, 8}; else null
 */
public record ModelInfo(Path folder, String modelClass, ModelObjective objective, int[] sampleShape, int numClasses, int nullClass,
                        long parameters, int maxBatch, String defaultSampler, int defaultSteps, long deviceBytes, int[] latentShape) {
    /** A pixel-space model's info (no latent space). */
    public ModelInfo(Path folder, String modelClass, ModelObjective objective, int[] sampleShape, int numClasses, int nullClass,
                     long parameters, int maxBatch, String defaultSampler, int defaultSteps, long deviceBytes) {
        this(folder, modelClass, objective, sampleShape, numClasses, nullClass, parameters, maxBatch, defaultSampler, defaultSteps, deviceBytes, null);
    }

    /**
     * The network's sample shape for a latent model (a copy), null for a pixel-space one.
     * <pre>{@code
     * boolean latent = pipeline.info().latentShape() != null;
     * }</pre>
     */
    @Override
    public int[] latentShape() { return latentShape == null ? null : latentShape.clone(); }

    /**
     * One sample's shape (a copy), e.g. {1, 28, 28}.
     * <pre>{@code
     * int channels = pipeline.info().sampleShape()[0];
     * }</pre>
     */
    @Override
    public int[] sampleShape() { return sampleShape.clone(); }

    /**
     * Whether requests may ask for classifier-free guidance (a class-conditional model with a null class).
     * <pre>{@code
     * if (pipeline.info().supportsGuidance()) request = request.toBuilder().guidance(3).build();
     * }</pre>
     */
    public boolean supportsGuidance() { return nullClass >= 0; }

    /**
     * Whether the samples are images (C, H, W) rather than vectors.
     * <pre>{@code
     * boolean images = pipeline.info().isImageModel();
     * }</pre>
     */
    public boolean isImageModel() { return sampleShape.length == 3; }
}
