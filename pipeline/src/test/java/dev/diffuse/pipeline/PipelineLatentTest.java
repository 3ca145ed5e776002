package dev.diffuse.pipeline;

import static dev.diffuse.pipeline.PipelineCrowdTest.assertBitsEqual;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.diffuse.models.train.ModelObjective;
import dev.diffuse.models.unet.UNetConfig;
import dev.diffuse.models.vae.AutoencoderKL;
import dev.diffuse.models.vae.AutoencoderKLConfig;
import dev.diffuse.models.vae.LatentSpace;
import dev.diffuse.models.vae.VaeCheckpoint;
import dev.diffuse.runtime.JavaDevice;
import dev.diffuse.runtime.TestDevices;

/** A latent model through the pipeline: latents are sampled, decoded with the folder's VAE and cropped; rows stay independent. */
class PipelineLatentTest {
    @TempDir
    Path dir;

    @Test
    void latentModelsSampleDecodedImagesWhateverTheBatch() throws Exception {
        // the tiny VAE (2x8x8 images, 3x4x4 latents) and a tiny U-Net for its latents; crop 6 of the 8 pixels
        Path vae = dir.resolve("vae-src");
        try (AutoencoderKL m = new AutoencoderKL(AutoencoderKLConfig.tiny().withScalingFactor(1.7), JavaDevice.get(), 1, false)) {
            m.initialize(5);
            VaeCheckpoint.save(m, vae);
        }
        UNetConfig u = UNetConfig.tiny().withNumClassEmbeds(null);
        u = new UNetConfig(4, 3, 3, false, null, u.freqShift(), u.flipSinToCos(), u.downBlockTypes(), u.midBlockType(), u.upBlockTypes(),
                u.blockOutChannels(), u.layersPerBlock(), u.midBlockScaleFactor(), u.downsamplePadding(), u.attentionHeadDim(), u.normNumGroups(),
                u.normEps(), u.attnNormNumGroups(), u.addAttention(), null, u.dropout());
        Path model = TinyModels.write(dir.resolve("ldm"), u, ModelObjective.epsilon(), -1);
        LatentSpace.install(model, vae, 6);
        SampleRequest req = SampleRequest.builder().n(5).steps(3).seed(11).build();
        float[] four, one;
        try (DiffusionPipeline p = DiffusionPipeline.load(model, TestDevices.java(), PipelineRequestsTest.batchOf(4))) {
            assertArrayEquals(new int[]{2, 6, 6}, p.info().sampleShape(), "callers get decoded, cropped images");
            assertArrayEquals(new int[]{3, 4, 4}, p.info().latentShape());
            assertFalse(p.resolve(req).clip(), "no x0 clipping in latent space");
            four = p.sample(req).images().data();
            assertEquals(5 * 72, four.length);
            for (float v : four) assertTrue(Float.isFinite(v));
        }
        try (DiffusionPipeline p = DiffusionPipeline.load(model, TestDevices.java(), PipelineRequestsTest.batchOf(1))) {
            one = p.sample(req).images().data();
        }
        assertBitsEqual(four, one, "decoded images in batches of 4 and of 1");
    }
}
