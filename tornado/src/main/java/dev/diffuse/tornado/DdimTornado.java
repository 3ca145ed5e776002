package dev.diffuse.tornado;

import java.util.function.Function;

import dev.diffuse.models.unet.UNetConfig;
import dev.diffuse.samplers.Denoiser;
import dev.diffuse.samplers.pipeline.DdimSampler;
import dev.diffuse.samplers.schedule.DiscreteSchedule;
import dev.diffuse.tornado.kernels.DiffusionTornado;
import dev.diffuse.tornado.kernels.ElementwiseTornado;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * DDIM sampling of an epsilon-prediction U-Net entirely on a TornadoVM device: the same per-step scalars as
 * {@link DdimSampler} (its {@link DdimSampler.Step}s, computed on the host in double before the loop) and the same
 * noise streams (prior: stream 0; step k: stream k + 1), so a seed gives the images the Java and OpenCL devices give.
 *
 * <p>One plan, compiled once and reusable for any seed, step count (up to {@code maxSteps}), eta and
 * clipping. The run graph starts a run: it transfers the weights the first time only and every time the run's small
 * inputs (the table of per-step scalars, {@link DiffusionTornado#ROW} floats per step: the timestep the network sees,
 * then the update's p, q, lo, hi, a, b, d, c; the seed; the class labels), resets the step counter and draws the prior;
 * it persists all of it on the device. The step's {@link GraphChain} (a U-Net is more than one TornadoVM graph holds)
 * consumes it and runs one whole step: the timesteps of step
 * k = counter, the U-Net forward, the fused update (row k, stream k + 1), counter += 1 and a copy of x into the small
 * output array. The host executes the step's graphs {@code steps} times with no transfer in the loop (every per-step
 * value is read on the device at the counter) and reads the output once, on demand, at the end.
 */
public final class DdimTornado implements AutoCloseable {
    private final ResidentModel m;
    private final DiscreteSchedule schedule;
    private final int n, maxSteps;
    private final FloatArray table, labels, out;
    private final IntArray run, counter;
    private final ResidentModel.Plan plan;
    private double firstStep, laterSteps;

    /**
     * @param weights  the U-Net's parameters by name (e.g. {@link ParamPack#weightsOf})
     * @param schedule the schedule the network was trained on: the timestep it sees at a noise level
     *                 ({@link DiscreteSchedule#timestepOf}, as {@code models.train.ModelDenoiser})
     * @param n        images, all in one batch
     * @param maxSteps the most steps a run of this plan may take
     */
    public DdimTornado(UNetConfig cfg, Function<String, float[]> weights, DiscreteSchedule schedule, int n, int maxSteps) {
        if (n < 1) throw new IllegalArgumentException("TornadoVM DDIM: the number of images must be at least 1, got " + n);
        if (maxSteps < 1) throw new IllegalArgumentException("TornadoVM DDIM: maxSteps must be at least 1, got " + maxSteps);
        this.schedule = schedule;
        this.n = n;
        this.maxSteps = maxSteps;
        m = new ResidentModel(cfg, weights, n, new ArenaPlan());
        table = new FloatArray(maxSteps * DiffusionTornado.ROW);
        labels = new FloatArray(n);
        run = new IntArray(2);
        counter = new IntArray(1);
        int xs = n * m.sampleNumel();
        out = new FloatArray(xs);
        Tasks r = new Tasks(m.prefix + "_run", m.grids);
        r.graph().transferToDevice(DataTransferMode.FIRST_EXECUTION, m.par, m.act);
        r.graph().transferToDevice(DataTransferMode.EVERY_EXECUTION, table, run, labels);
        DiffusionTornado.resetCounter(r, counter);
        ElementwiseTornado.touch(r, m.par);
        ElementwiseTornado.touch(r, table);
        DiffusionTornado.prior(r, m.act, m.x, run, xs);
        if (m.labels >= 0) ElementwiseTornado.copyBetween(r, m.act, m.labels, labels, 0, n);
        r.graph().persistOnDevice(m.par, m.act, table, run, counter);
        GraphChain step = m.chain("step", table, run, counter);
        DiffusionTornado.timesteps(step.tasks(), m.act, m.steps, table, counter, n);
        m.net.emit(step, m.act, m.par);
        DiffusionTornado.stepClipX0Table(step.tasks(), m.act, m.x, m.x, m.net.out.off(), table, counter, run, xs);
        DiffusionTornado.advance(step.tasks(), counter);
        ElementwiseTornado.copyBetween(step.tasks(), out, 0, m.act, m.x, xs);
        step.last().graph().transferToHost(DataTransferMode.UNDER_DEMAND, out);
        plan = m.plan(r, step);
    }

    /** Fills the table with the sampler's steps: row k = the timestep the network sees, then the update's scalars. */
    private void fillTable(DdimSampler sampler) {
        for (int k = 0; k < sampler.steps(); k++) {
            DdimSampler.Step st = sampler.step(k, Denoiser.Prediction.EPSILON);
            if (st.stream() != k + 1)
                throw new IllegalStateException("TornadoVM DDIM: step " + k + " draws from stream " + st.stream() + "; the kernels use k + 1");
            float[] row = {(float) schedule.timestepOf(st.level().scale(), st.level().sigma()), (float) st.p(), (float) st.q(),
                    (float) st.lo(), (float) st.hi(), (float) st.a(), (float) st.b(), (float) st.d(), (float) st.c()};
            for (int j = 0; j < row.length; j++) table.set(k * DiffusionTornado.ROW + j, row[j]);
        }
    }

    /** Task graphs in the plan: the run graph and the step's chain. */
    public int graphCount() { return plan.graphs(); }

    /** Tasks in the plan (each compiled separately on first use). */
    public int taskCount() { return plan.tasks(); }

    /** Floats of device memory: weights, activations, per-run inputs, output. */
    public long deviceFloats() { return (long) m.par.getSize() + m.act.getSize() + table.getSize() + labels.getSize() + out.getSize(); }

    /**
     * Runs {@code sampler} from the prior of {@code seed} and returns the n images (n, C, H, W) flattened: image k is
     * what the Java and OpenCL devices give row k of a batch sampled with that seed.
     * @param classLabel a class-conditional model's class for every image, or -1: image k gets class k mod classes (as
     *                   {@code diffuse sample}); must be -1 for an unconditional model
     */
    public float[] sample(DdimSampler sampler, long seed, int classLabel) {
        UNetConfig cfg = m.cfg;
        if (sampler.steps() > maxSteps)
            throw new IllegalArgumentException("TornadoVM DDIM: " + sampler.steps() + " steps, but this plan was built for at most " + maxSteps);
        Integer classes = cfg.numClassEmbeds();
        if (classes == null && classLabel >= 0)
            throw new IllegalArgumentException("TornadoVM DDIM: a class label was given but the model has no class embedding");
        if (classes != null && classLabel >= classes)
            throw new IllegalArgumentException("TornadoVM DDIM: class " + classLabel + " is not in 0.." + (classes - 1));
        for (int i = 0; i < n; i++) labels.set(i, classes == null ? 0 : classLabel >= 0 ? classLabel : i % classes);
        fillTable(sampler);
        run.set(0, (int) seed);
        run.set(1, (int) (seed >>> 32));
        long t0 = System.nanoTime();
        plan.plan().withGraph(0).execute();
        TornadoExecutionResult last = null;
        long t1 = t0;
        for (int k = 0; k < sampler.steps(); k++) {
            for (int g = 1; g < plan.graphs(); g++) last = plan.plan().withGraph(g).execute();
            if (k == 0) t1 = System.nanoTime();
        }
        long t2 = System.nanoTime();
        firstStep = (t1 - t0) / 1e9;
        laterSteps = sampler.steps() > 1 ? (t2 - t1) / 1e9 / (sampler.steps() - 1) : 0;
        last.transferToHost(out);
        float[] r = new float[n * m.sampleNumel()];
        for (int i = 0; i < r.length; i++) r[i] = out.get(i);
        return r;
    }

    /** Seconds of the last run's first step (with the run graph; on a plan's first run: with compiling every task). */
    public double firstStepSeconds() { return firstStep; }

    /** Mean seconds of the last run's other steps. */
    public double laterStepSeconds() { return laterSteps; }

    @Override
    public void close() { plan.close(); }
}
