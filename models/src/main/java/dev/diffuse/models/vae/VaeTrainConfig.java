package dev.diffuse.models.vae;

import dev.diffuse.kernels.optim.Optim;

/**
 * Hyper-parameters of VAE training (serialised as JSON into every checkpoint).
 *
 * <p>Loss per batch of B images of D values: {@code L = (1 / (B D)) sum_b [ ||decode(z_b) - x_b||^2 + klWeight KL_b ]},
 * z_b ~ q(z | x_b), KL_b = KL(q(z | x_b) || N(0, I)) summed over the latent: reconstruction as a per-pixel MSE and the KL
 * weighted in the per-image-sum convention of LDM's kl_weight. Why a small weight: with posterior N(mu, s^2) the
 * decoder sees mu + s eps, which adds about s^2 ||J||^2 (J the decoder's Jacobian) to an image's squared error, while
 * the KL's log-variance term pulls s^2 up; the optimum is s^2 ||J||^2 ~ klWeight / 2 per latent value, so the KL costs
 * about (latent values) * klWeight / 2 of squared error per image: 256 * 1e-3 / 2 = 0.13 against ~10 for a per-pixel MSE
 * of 0.01 over 1024 pixels. That keeps reconstructions sharp, yet every latent value has a noise floor the decoder must
 * tolerate (a smooth latent space for the diffusion model's small errors) and latents stay of bounded scale.
 *
 * @param steps           optimizer steps
 * @param batch           images per step
 * @param lr              peak AdamW learning rate (after linear warm-up; constant afterwards)
 * @param warmupSteps     linear warm-up steps
 * @param weightDecay     AdamW decoupled weight decay
 * @param klWeight        the KL weight above, e.g. 1e-3
 * @param emaDecay        EMA of the weights (what checkpoints save for encoding and decoding), with warm-up min(d, t / (t + 9))
 * @param gradClip        max global gradient norm (0: none)
 * @param seed            key of every random draw (batch indices, the posterior's noise)
 * @param logEvery        read the losses back every this many steps
 * @param checkpointEvery save a checkpoint every this many steps (0: only at the end)
 */
public record VaeTrainConfig(int steps, int batch, double lr, int warmupSteps, double weightDecay, double klWeight, double emaDecay,
                             double gradClip, long seed, int logEvery, int checkpointEvery) {
    public VaeTrainConfig {
        StringBuilder bad = new StringBuilder();
        if (steps < 1 || batch < 1 || logEvery < 1) bad.append(" steps, batch and logEvery >= 1;");
        if (warmupSteps < 0 || checkpointEvery < 0) bad.append(" warmupSteps, checkpointEvery >= 0;");
        if (!(klWeight >= 0) || Double.isInfinite(klWeight)) bad.append(" a finite klWeight >= 0 (got ").append(klWeight).append(");");
        if (!(emaDecay >= 0 && emaDecay <= 1)) bad.append(" emaDecay in [0, 1] (got ").append(emaDecay).append(");");
        if (!(gradClip >= 0)) bad.append(" gradClip >= 0;");
        if (!bad.isEmpty()) throw new IllegalArgumentException("VAE training config: need" + bad);
        new Optim.AdamWConfig(lr, 0.9, 0.999, 1e-8, weightDecay);
    }

    /** lr 1e-3 with 100 warm-up steps, no weight decay, KL weight 1e-3, EMA 0.999, clip 1. */
    public static VaeTrainConfig defaults(int steps, int batch, long seed) {
        return new VaeTrainConfig(steps, batch, 1e-3, 100, 0, 1e-3, 0.999, 1.0, seed, 25, 0);
    }

    public VaeTrainConfig withSteps(int s) {
        return new VaeTrainConfig(s, batch, lr, warmupSteps, weightDecay, klWeight, emaDecay, gradClip, seed, logEvery, checkpointEvery);
    }

    public Optim.AdamWConfig adamw(int t) {
        double l = warmupSteps == 0 ? lr : lr * Math.min(1.0, (double) t / warmupSteps);
        return new Optim.AdamWConfig(l, 0.9, 0.999, 1e-8, weightDecay);
    }

    /** EMA decay at update t (diffusers' warm-up). */
    public double emaDecay(int t) { return Math.min(emaDecay, (double) t / (t + 9)); }
}
