package dev.diffuse.models.vae;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import dev.diffuse.models.io.Safetensors;
import dev.diffuse.runtime.Close;
import dev.diffuse.runtime.Device;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.TestDevices;

/**
 * Parity with a plain-PyTorch AutoencoderKL written from diffusers' layout (resources .../vae/parity/make_fixture.py,
 * float64, Debian's PyTorch 1.13): the fixture's config.json and weights load through the strict loader, and the
 * encoder's moments and the decoder's output match the reference on both devices.
 */
class VaeParityTest {
    @Test
    void encoderAndDecoderMatchPyTorch() throws Exception {
        Path dir = Path.of(VaeParityTest.class.getResource("parity/config.json").toURI()).getParent();
        float[] x, moments, z, recon;
        int[] xs, ms, zs;
        try (Safetensors.File f = Safetensors.open(dir.resolve("io.safetensors"))) {
            x = f.readF32("x");
            moments = f.readF32("moments");
            z = f.readF32("z");
            recon = f.readF32("recon");
            xs = f.shape("x");
            ms = f.shape("moments");
            zs = f.shape("z");
        }
        for (Device d : new Device[]{TestDevices.java(), TestDevices.openCl()}) {
            try (AutoencoderKL m = VaeCheckpoint.load(dir, d, 2, false); Tensor xt = Tensor.of(d, x, xs); Tensor mt = Tensor.allocate(d, ms);
                 Tensor zt = Tensor.of(d, z, zs); Tensor rt = Tensor.allocate(d, xs)) {
                m.encode(mt, xt);
                m.decode(rt, zt);
                Close.assertClose(moments, mt.toArray(), 2e-5, 1e-4, "encoder moments vs PyTorch on " + d.id());
                Close.assertClose(recon, rt.toArray(), 2e-5, 1e-4, "decoder output vs PyTorch on " + d.id());
            }
        }
    }
}
