package dev.diffuse.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.pipeline.DiffusionPipeline;
import dev.diffuse.pipeline.ModelInfo;

/** {@code GET /v1/model}: what the server serves (model, objective, defaults, config.json) and the limits it applies. Built once. */
final class ModelDocument {
    private final Map<String, Object> doc = new LinkedHashMap<>();

    ModelDocument(DiffusionPipeline pipeline, ServerConfig config, int maxQueued) {
        ModelInfo i = pipeline.info();
        doc.put("folder", i.folder().toString());
        doc.put("modelClass", i.modelClass());
        Map<String, Object> obj = new LinkedHashMap<>();
        obj.put("kind", i.objective().label());
        if (i.objective().kind() == ModelObjective.Kind.CONSISTENCY) {
            obj.put("sigmaMin", i.objective().sigmaMin());
            obj.put("sigmaMax", i.objective().sigmaMax());
            obj.put("sigmaData", i.objective().sigmaData());
        }
        doc.put("objective", obj);
        doc.put("sampleShape", i.sampleShape());
        doc.put("numClasses", i.numClasses());
        doc.put("nullClass", i.nullClass() >= 0 ? i.nullClass() : null);
        doc.put("supportsGuidance", i.supportsGuidance());
        doc.put("parameters", i.parameters());
        doc.put("defaultSampler", i.defaultSampler());
        doc.put("defaultSteps", i.defaultSteps());
        doc.put("device", pipeline.device().name());
        Map<String, Object> limits = new LinkedHashMap<>();
        limits.put("maxImages", config.maxImages());
        limits.put("maxSteps", config.maxSteps());
        limits.put("maxBatch", i.maxBatch());
        limits.put("maxQueuedRequests", maxQueued);
        limits.put("requestTimeoutSeconds", config.requestTimeout().toMillis() / 1000.0);
        doc.put("limits", limits);
        doc.put("config", config(i.folder()));
    }

    Map<String, Object> json() { return doc; }

    /** The folder's config.json as JSON (null when it cannot be read: the model loaded, so this is only informative). */
    private static JsonNode config(Path folder) {
        Path c = Files.exists(folder.resolve("config.json")) ? folder.resolve("config.json") : folder.resolve("unet/config.json");
        try {
            return Answer.JSON.readTree(c.toFile());
        } catch (IOException e) {
            return null;
        }
    }
}
