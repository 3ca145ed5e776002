package dev.diffuse.tornado;

import java.util.function.Function;

import dev.diffuse.models.unet.UNetConfig;
import dev.diffuse.tornado.kernels.ElementwiseTornado;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * One U-Net forward on TornadoVM, for parity tests and the benchmark: {@code out = unet(x, t[, labels])} for a batch
 * fixed at construction. The first graph transfers the weights (first run only) and the inputs (x, timesteps, labels:
 * one small array) and copies the inputs into their slots; the {@link GraphChain} runs the forward on the resident
 * weights and copies the output into a small array that its last graph reads back.
 */
public final class UNetForwardTornado implements AutoCloseable {
    private final ResidentModel m;
    private final FloatArray in, out;
    private final int inSteps, inLabels;
    private final ResidentModel.Plan plan;

    public UNetForwardTornado(UNetConfig cfg, Function<String, float[]> weights, int batch) {
        m = new ResidentModel(cfg, weights, batch, new ArenaPlan());
        int xs = batch * m.sampleNumel(), s = cfg.sampleSize();
        inSteps = xs;
        inLabels = inSteps + batch;
        in = new FloatArray(inLabels + batch);
        out = new FloatArray(batch * cfg.outChannels() * s * s);
        Tasks load = new Tasks(m.prefix + "_in", m.grids);
        load.graph().transferToDevice(DataTransferMode.FIRST_EXECUTION, m.par, m.act);
        load.graph().transferToDevice(DataTransferMode.EVERY_EXECUTION, in);
        ElementwiseTornado.touch(load, m.par);
        ElementwiseTornado.copyBetween(load, m.act, m.x, in, 0, xs);
        ElementwiseTornado.copyBetween(load, m.act, m.steps, in, inSteps, batch);
        if (m.labels >= 0) ElementwiseTornado.copyBetween(load, m.act, m.labels, in, inLabels, batch);
        load.graph().persistOnDevice(m.par, m.act);
        GraphChain chain = m.chain("forward");
        m.net.emit(chain, m.act, m.par);
        ElementwiseTornado.copyBetween(chain.last(), out, 0, m.act, m.net.out.off(), out.getSize());
        chain.last().graph().transferToHost(DataTransferMode.EVERY_EXECUTION, out);
        plan = m.plan(load, chain);
    }

    /** Tasks in the plan (each compiled separately on first use). */
    public int taskCount() { return plan.tasks(); }

    /** Task graphs in the plan. */
    public int graphCount() { return plan.graphs(); }

    /** Floats of device memory: weights, activations, inputs and output. */
    public long deviceFloats() { return (long) m.par.getSize() + m.act.getSize() + in.getSize() + out.getSize(); }

    /** out (batch, out_channels, H, W) for x (batch, in_channels, H, W), timesteps (batch) and labels (batch or null). */
    public float[] forward(float[] x, float[] t, float[] labels) {
        int b = m.batch;
        if (x.length != b * m.sampleNumel() || t.length != b)
            throw new IllegalArgumentException("TornadoVM U-Net forward: x must hold " + b * m.sampleNumel() + " values and t " + b
                    + " (batch " + b + "), got " + x.length + " and " + t.length);
        if ((labels != null) != (m.labels >= 0))
            throw new IllegalArgumentException("TornadoVM U-Net forward: class labels " + (labels == null ? "missing for a class-conditional model"
                    : "given to a model without a class embedding"));
        for (int i = 0; i < x.length; i++) in.set(i, x[i]);
        for (int i = 0; i < b; i++) in.set(inSteps + i, t[i]);
        if (labels != null) for (int i = 0; i < b; i++) in.set(inLabels + i, labels[i]);
        execute();
        float[] r = new float[out.getSize()];
        for (int i = 0; i < r.length; i++) r[i] = out.get(i);
        return r;
    }

    /** Runs every graph once on the current inputs (the first call also transfers the weights and compiles). */
    public void execute() {
        for (int g = 0; g < plan.graphs(); g++) plan.plan().withGraph(g).execute();
    }

    @Override
    public void close() { plan.close(); }
}
