package dev.diffuse.tornado;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import dev.diffuse.models.unet.UNetConfig;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * A U-Net planned for TornadoVM at one batch size: the packed weights, the activation array (with slots for x, the
 * timesteps and the class labels) and the forward's tasks. A pipeline built on it ({@link UNetForwardTornado},
 * {@link DdimTornado}) starts with a graph that transfers the weights once ({@code FIRST_EXECUTION}) and
 * {@code persistOnDevice}s them with the activations; the graphs of its {@link #chain} {@code consumeFromDevice} them,
 * so the weights never cross the bus again however often the pipeline runs.
 */
final class ResidentModel {
    private static final AtomicInteger PLANS = new AtomicInteger();

    final UNetConfig cfg;
    final int batch, x, steps, labels;
    final UNetTornado net;
    final FloatArray par, act;
    final GridScheduler grids = new GridScheduler();
    final String prefix = "unet" + PLANS.incrementAndGet();

    /** Plans x (batch, C, H, W), timesteps (batch), class labels (batch, if the model has a class table) and the forward. */
    ResidentModel(UNetConfig cfg, Function<String, float[]> weights, int batch, ArenaPlan plan) {
        this.cfg = cfg;
        this.batch = batch;
        int s = cfg.sampleSize();
        x = plan.alloc((long) batch * cfg.inChannels() * s * s);
        steps = plan.alloc(batch);
        labels = cfg.numClassEmbeds() == null ? -1 : plan.alloc(batch);
        ParamPack pack = new ParamPack(weights);
        net = new UNetTornado(cfg, batch, plan, pack, x, steps, labels);
        par = pack.toArray();
        act = new FloatArray(plan.size());
    }

    /** Elements of one sample. */
    int sampleNumel() { return cfg.inChannels() * cfg.sampleSize() * cfg.sampleSize(); }

    /** A chain for the forward (and what the pipeline adds around it) sharing the weights, activations and {@code more}. */
    GraphChain chain(String name, Object... more) {
        Object[] all = new Object[more.length + 2];
        all[0] = par;
        all[1] = act;
        System.arraycopy(more, 0, all, 2, more.length);
        return new GraphChain(prefix + "_" + name, grids, all);
    }

    /** An execution plan of a first graph followed by a chain's graphs, and its size. */
    record Plan(TornadoExecutionPlan plan, int graphs, int tasks) implements AutoCloseable {
        @Override
        public void close() {
            try {
                plan.close();
            } catch (Exception e) {
                throw new IllegalStateException("TornadoVM: closing the execution plan failed: " + e.getMessage(), e);
            }
        }
    }

    /** {@code first}, then every graph of {@code chain} (persisting the shared objects), with the model's grids. */
    Plan plan(Tasks first, GraphChain chain) {
        List<ImmutableTaskGraph> all = new ArrayList<>();
        all.add(first.snapshot());
        all.addAll(chain.snapshots());
        TornadoExecutionPlan p = new TornadoExecutionPlan(all.toArray(new ImmutableTaskGraph[0]));
        p.withGridScheduler(grids);
        return new Plan(p, all.size(), first.size() + chain.taskCount());
    }
}
