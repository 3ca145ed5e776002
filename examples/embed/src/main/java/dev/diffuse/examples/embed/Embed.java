package dev.diffuse.examples.embed;

import java.nio.file.Files;
import java.nio.file.Path;

import dev.diffuse.pipeline.DiffusionPipeline;
import dev.diffuse.pipeline.SampleRequest;
import dev.diffuse.pipeline.SampleResult;
import dev.diffuse.runtime.Devices;

/**
 * Loads a model folder and samples a few images: {@code Embed [MODEL_DIR] [OUT_PNG]} (defaults: the shipped
 * Fashion-MNIST model seen from this folder, grid.png). Run with {@code --add-modules jdk.incubator.vector}.
 */
public final class Embed {
    public static void main(String[] args) throws Exception {
        Path model = Path.of(args.length > 0 ? args[0] : "../../pretrained/fashion-mnist-small");
        Path out = Path.of(args.length > 1 ? args[1] : "grid.png");
        // the whole program a service needs: load once, sample from any thread, encode
        try (DiffusionPipeline pipeline = DiffusionPipeline.load(model, Devices.select("auto"))) {
            SampleResult r = pipeline.sample(SampleRequest.builder().n(4).steps(2).seed(7).build());
            Files.write(out, r.images().gridPng());
            System.out.printf("%d images (%s, %d steps, seed %d) on %s in %d ms -> %s%n", r.images().count(), r.request().sampler(),
                    r.request().steps(), r.request().seed(), pipeline.device().name(), r.elapsed().toMillis(), out);
            if (r.nonFiniteImages() > 0) throw new IllegalStateException(r.nonFiniteImages() + " images hold NaN or infinity");
        }
    }
}
