package dev.diffuse.pipeline;

import java.time.Duration;

/**
 * A finished request: the request with every default filled in (the sampler, steps and seed used), its images (null
 * when they were streamed to a listener), how many images hold a non-finite value, and timings.
 * <pre>{@code
 * SampleResult r = pipeline.sample(SampleRequest.of(16));
 * System.out.println("seed " + r.request().seed() + ", " + r.elapsed().toMillis() + " ms");
 * }</pre>
 *
 * @param request         the resolved request (no null sampler, steps or seed)
 * @param images          the images, or null for {@link DiffusionPipeline#stream}
 * @param nonFiniteImages images with a NaN or an infinity (the model or sampler diverged)
 * @param queued          from submission to the first batch holding this request
 * @param elapsed         from submission to completion
 * @param batches         batches that held images of this request
 */
public record SampleResult(SampleRequest request, Images images, int nonFiniteImages, Duration queued, Duration elapsed, int batches) {}
