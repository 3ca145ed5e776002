package dev.diffuse.models.vae;

import dev.diffuse.kernels.elementwise.Elementwise;
import dev.diffuse.models.data.Dataset;
import dev.diffuse.models.train.Chunks;
import dev.diffuse.models.unet.Graph;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;

/**
 * Moving whole data sets and sample batches between image space and a VAE's latent space, in chunks of the model's
 * maxBatch: encoding to posterior means, the latents' std (the scaling factor's inverse), decoding.
 */
public final class Latents {
    private Latents() {}

    /** The posterior means (unscaled z, row-major (n, L, h, w)) of images {@code ids} of {@code data}. */
    public static float[] encode(AutoencoderKL model, Dataset data, int[] ids) {
        AutoencoderKLConfig c = model.config();
        int per = data.sampleNumel(), zper = Math.toIntExact(Tensor.numel(c.latentShape())), mb = model.maxBatch();
        float[] out = new float[Math.multiplyExact(ids.length, zper)], host = new float[mb * per];
        try (Workspace ws = new Workspace(model.device(), "encode", 4L * mb * (per + zper) + (1 << 16))) {
            Tensor x = ws.tensor(Graph.withBatch(mb, c.imageShape())), z = ws.tensor(Graph.withBatch(mb, c.latentShape()));
            for (int first = 0; first < ids.length; first += mb) {
                int b = Math.min(mb, ids.length - first);
                data.fill(java.util.Arrays.copyOfRange(ids, first, first + b), host, null);
                Tensor xb = Graph.batch(x, b), zb = Graph.batch(z, b);
                xb.upload(b == mb ? host : java.util.Arrays.copyOf(host, b * per));
                model.encodeMean(zb, xb);
                System.arraycopy(zb.toArray(), 0, out, first * zper, b * zper);
            }
        }
        return out;
    }

    /** Reconstructions decode(mean of q(z | x)) of images {@code ids} of {@code data}, row-major (n, C, H, W). */
    public static float[] reconstruct(AutoencoderKL model, Dataset data, int[] ids) {
        AutoencoderKLConfig c = model.config();
        int per = data.sampleNumel(), zper = Math.toIntExact(Tensor.numel(c.latentShape())), mb = model.maxBatch();
        float[] out = new float[Math.multiplyExact(ids.length, per)], host = new float[mb * per];
        try (Workspace ws = new Workspace(model.device(), "reconstruct", 4L * mb * (2L * per + zper) + (1 << 16))) {
            Tensor x = ws.tensor(Graph.withBatch(mb, c.imageShape())), z = ws.tensor(Graph.withBatch(mb, c.latentShape())),
                    y = ws.tensor(Graph.withBatch(mb, c.imageShape()));
            for (int first = 0; first < ids.length; first += mb) {
                int b = Math.min(mb, ids.length - first);
                data.fill(java.util.Arrays.copyOfRange(ids, first, first + b), host, null);
                Tensor xb = Graph.batch(x, b), zb = Graph.batch(z, b), yb = Graph.batch(y, b);
                xb.upload(b == mb ? host : java.util.Arrays.copyOf(host, b * per));
                model.encodeMean(zb, xb);
                model.decode(yb, zb);
                System.arraycopy(yb.toArray(), 0, out, first * per, b * per);
            }
        }
        return out;
    }

    /**
     * {rms posterior std, std of the posterior means} over images {@code ids}: how much noise the posterior adds next to
     * the spread of the latents (the ratio a small KL weight keeps small: latent diffusion trains on the means).
     */
    public static double[] posteriorSpread(AutoencoderKL model, Dataset data, int[] ids) {
        AutoencoderKLConfig c = model.config();
        int per = data.sampleNumel(), mper = 2 * Math.toIntExact(Tensor.numel(c.latentShape())), mb = model.maxBatch();
        float[] host = new float[mb * per];
        double var = 0, s = 0, s2 = 0;
        long count = 0;
        try (Workspace ws = new Workspace(model.device(), "posterior", 4L * mb * (per + mper) + (1 << 16))) {
            Tensor x = ws.tensor(Graph.withBatch(mb, c.imageShape()));
            int[] ms = c.latentShape();
            Tensor mo = ws.tensor(mb, 2 * ms[0], ms[1], ms[2]);
            for (int first = 0; first < ids.length; first += mb) {
                int b = Math.min(mb, ids.length - first);
                data.fill(java.util.Arrays.copyOfRange(ids, first, first + b), host, null);
                Tensor xb = Graph.batch(x, b), mob = Graph.batch(mo, b);
                xb.upload(b == mb ? host : java.util.Arrays.copyOf(host, b * per));
                model.encode(mob, xb);
                float[] m = mob.toArray();
                int half = mper / 2;
                for (int i = 0; i < b; i++)
                    for (int j = 0; j < half; j++) {
                        double mean = m[i * mper + j], lv = Math.min(20, Math.max(-30, m[i * mper + half + j]));
                        var += Math.exp(lv);
                        s += mean;
                        s2 += mean * mean;
                        count++;
                    }
            }
        }
        double mu = s / count;
        return new double[]{Math.sqrt(var / count), Math.sqrt(Math.max(0, s2 / count - mu * mu))};
    }

    /** {@code n} indices spread evenly over a data set of {@code size} (0, size/n, 2 size/n, ...). */
    public static int[] spread(int size, int n) {
        int k = Math.min(n, size);
        int[] ids = new int[k];
        for (int i = 0; i < k; i++) ids[i] = (int) ((long) i * size / k);
        return ids;
    }

    /** Standard deviation (centred, over every value) of the latent means of {@code n} images spread over the data. */
    public static double std(AutoencoderKL model, Dataset data, int n) {
        float[] z = encode(model, data, spread(data.size(), n));
        double s = 0, s2 = 0;
        for (float v : z) { s += v; s2 += (double) v * v; }
        double mean = s / z.length;
        return Math.sqrt(Math.max(0, s2 / z.length - mean * mean));
    }

    /**
     * images (N, C, H, W) = decode(latents / scalingFactor) for scaled latents (N, L, h, w) on the model's device, any
     * N (chunks of maxBatch); {@code latents} is left unchanged.
     */
    public static void decodeScaled(AutoencoderKL model, Tensor images, Tensor latents) {
        AutoencoderKLConfig c = model.config();
        float inv = (float) (1 / c.scalingFactor());
        try (Chunks chunks = new Chunks(model.device(), model.maxBatch(), Tensor.numel(c.latentShape()), Tensor.numel(c.imageShape()));
             Tensor unscaled = Tensor.allocate(model.device(), Graph.withBatch(model.maxBatch(), c.latentShape()))) {
            chunks.run(images, latents, null, null, c.latentShape(), c.imageShape(), (o, z, unused1, unused2, b) -> {
                Tensor zb = Graph.batch(unscaled, b);
                Elementwise.scale(zb, z, inv);
                model.decode(o, zb);
            });
        }
    }
}
