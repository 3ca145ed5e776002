package dev.diffuse.models.consistency;

import dev.diffuse.kernels.consistency.Consistency;
import dev.diffuse.kernels.elementwise.Elementwise;
import dev.diffuse.models.train.Chunks;
import dev.diffuse.models.train.NetworkDenoiser;
import dev.diffuse.models.train.TrainableModel;
import dev.diffuse.runtime.Tensor;
import dev.diffuse.runtime.Workspace;

/**
 * A consistency model as an {@link Prediction#X0} denoiser on the VE path x = x0 + sigma z (NoiseLevel(1, sigma, .)):
 * f(x, sigma) = c_skip(sigma) x + c_out(sigma) F(c_in(sigma) x, 250 ln sigma), F the network (evaluated in chunks of
 * its maxBatch). Load the target (EMA) weights first ({@link ConsistencyTrainer#withTargetWeights}). No read-back.
 */
public final class ConsistencyDenoiser implements NetworkDenoiser {
    private final TrainableModel model;
    private final float sigmaMin, sigmaData;
    private final Workspace ws;
    private final Tensor xin, net, sigma, t;
    /** Rows past the first chunk go through aligned staging buffers (a view at an arbitrary row is no kernel argument). */
    private final Chunks chunks;

    public ConsistencyDenoiser(TrainableModel model, double sigmaMin, double sigmaData) {
        this.model = model;
        this.sigmaMin = (float) sigmaMin;
        this.sigmaData = (float) sigmaData;
        int mb = model.maxBatch(), per = java.util.Arrays.stream(model.sampleShape()).reduce(1, Math::multiplyExact);
        this.ws = new Workspace(model.device(), "consistency denoiser", 4L * (2L * mb * per + 2L * mb) + (1L << 20));
        this.xin = ws.tensor(mb, per);
        this.net = ws.tensor(mb, per);
        this.sigma = ws.tensor(mb);
        this.t = ws.tensor(mb);
        this.chunks = new Chunks(model.device(), mb, per, per);
    }

    public ConsistencyDenoiser(TrainableModel model, ConsistencyConfig cfg) { this(model, cfg.sigmaMin(), cfg.sigmaData()); }

    @Override public Prediction prediction() { return Prediction.X0; }

    @Override
    public synchronized void predict(Tensor out, Tensor x, NoiseLevel level) {
        if (out.numel() != x.numel()) throw new IllegalArgumentException("consistency denoiser: out " + out + " must match x " + x);
        double s = level.sigma();
        if (!((float) s >= sigmaMin) || level.scale() != 1)
            throw new IllegalArgumentException("consistency denoiser: needs a VE level (scale 1) with sigma >= sigma_min " + sigmaMin
                    + ", got " + level);
        int[] row = model.sampleShape();
        Elementwise.fill(sigma, (float) s);
        Elementwise.fill(t, (float) ConsistencyTrainer.timestep(s));
        chunks.run(out, x, null, null, row, row, (o, xs, unused1, unused2, b) -> {
            int[] shape = xs.shape();
            Tensor in = xin.view(0, shape), f = net.view(0, shape), sg = sigma.view(0, b);
            Consistency.input(in, xs, sg, sigmaData);
            model.forward(f, in, t.view(0, b), null);
            Consistency.combine(o, xs, f, sg, sigmaMin, sigmaData);
        });
    }

    @Override
    public void close() {
        chunks.close();
        ws.close();
    }
}
