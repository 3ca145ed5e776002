package dev.diffuse.tornado;

import java.util.ArrayList;
import java.util.List;

import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;

/**
 * A pipeline as a chain of TornadoVM task graphs that run one after the other on device-resident objects. One graph
 * cannot hold a U-Net: {@code TornadoTaskGraph} records its tasks in a fixed 8 KB buffer ({@code highLevelCode}),
 * about 70 tasks of 20 arguments ({@code java.nio.BufferOverflowException} in {@code TornadoTaskGraph.addInner}), so the
 * chain starts a new graph every {@value #MAX_TASKS} tasks. Every graph consumes the shared objects from the graph
 * that ran before it ({@code consumeFromDevice}: TornadoVM hands over the previous graph's device buffers) and persists
 * them for the next one, so nothing crosses the bus between the graphs.
 */
public final class GraphChain {
    public static final int MAX_TASKS = 40;

    private final String prefix;
    private final GridScheduler grids;
    private final Object[] shared;
    private final List<Tasks> graphs = new ArrayList<>();

    /** @param shared the device-resident objects every graph of the chain reads or writes */
    public GraphChain(String prefix, GridScheduler grids, Object... shared) {
        this.prefix = prefix;
        this.grids = grids;
        this.shared = shared;
    }

    /** The graph to add the next task to: the current one, or a new one when it is full. */
    public Tasks tasks() {
        if (graphs.isEmpty() || graphs.getLast().size() >= MAX_TASKS) {
            Tasks t = new Tasks(prefix + graphs.size(), grids);
            t.graph().consumeFromDevice(shared);
            graphs.add(t);
        }
        return graphs.getLast();
    }

    /** The last graph (for the pipeline's final transfers). */
    public Tasks last() { return tasks(); }

    /** Persists the shared objects at the end of every graph and returns their snapshots, in execution order. */
    public List<ImmutableTaskGraph> snapshots() {
        List<ImmutableTaskGraph> s = new ArrayList<>();
        for (Tasks t : graphs) {
            t.graph().persistOnDevice(shared);
            s.add(t.snapshot());
        }
        return s;
    }

    /** Graphs in the chain. */
    public int size() { return graphs.size(); }

    /** Tasks in all graphs. */
    public int taskCount() { return graphs.stream().mapToInt(Tasks::size).sum(); }
}
