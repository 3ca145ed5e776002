package dev.diffuse.tornado;

import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.WorkerGrid2D;

/**
 * A TornadoVM {@link TaskGraph} under construction together with the launch geometry of each task (its
 * {@link WorkerGrid}, collected in one {@link GridScheduler}). The kernel families' {@code add...} methods append one
 * task each and register its grid, as the OpenCL launchers ({@code XxxCl}) choose global and local sizes.
 *
 * <p>TornadoVM compiles every task separately and folds its scalar arguments into the generated code as constants
 * (shapes, offsets, flags become literals, like {@code -D} defines of the hand-written kernels), so values that change
 * from one execution to the next (a sampler's timestep and coefficients) must be read from device arrays instead.
 */
public final class Tasks {
    private final TaskGraph graph;
    private final GridScheduler grids;
    private int next;

    public Tasks(String graphName) {
        this(graphName, new GridScheduler());
    }

    /** A graph whose grids go into {@code grids}, shared by all graphs of one execution plan. */
    public Tasks(String graphName, GridScheduler grids) {
        this.graph = new TaskGraph(graphName);
        this.grids = grids;
    }

    public String name() { return graph.getTaskGraphName(); }

    public TaskGraph graph() { return graph; }

    public GridScheduler grids() { return grids; }

    /** Number of tasks added so far. */
    public int size() { return next; }

    /** A task name unique in this graph: {@code t<k>_<op>}. */
    public String name(String op) { return "t" + (next++) + "_" + op; }

    /** Registers the launch geometry of {@code task}. */
    public void grid(String task, WorkerGrid g) {
        grids.addWorkerGrid(graph.getTaskGraphName() + "." + task, g);
    }

    /**
     * 1-D grid for a {@code @Parallel} loop of exactly {@code iterations} iterations, in work-groups of the largest
     * divisor of it that is at most {@code maxLocal} (PoCL's CPU device has no non-uniform work-groups). The global size
     * must not be rounded up: with a grid, TornadoVM replaces a loop bound that is a kernel parameter by the grid's
     * global size ({@code TornadoTaskSpecialisation}: "The loop bounds will be configured by the GridScheduler"), so a
     * rounded-up grid runs iterations past the end of the data.
     */
    public static WorkerGrid loop1d(long iterations, int maxLocal) {
        int n = Math.toIntExact(Math.max(iterations, 1)), local = Math.min(maxLocal, n);
        while (n % local != 0) local--;
        WorkerGrid1D g = new WorkerGrid1D(n);
        g.setGlobalWork(n, 1, 1);
        g.setLocalWork(local, 1, 1);
        return g;
    }

    /** 1-D grid for a KernelContext kernel: {@code items} work-items rounded up to a multiple of {@code local}. */
    public static WorkerGrid grid1d(long items, int local) {
        long global = roundUp(Math.max(items, 1), local);
        WorkerGrid1D g = new WorkerGrid1D(Math.toIntExact(global));
        g.setGlobalWork(global, 1, 1);
        g.setLocalWork(local, 1, 1);
        return g;
    }

    /** 2-D grid for a KernelContext kernel: {@code gx x gy} work-items (each rounded up to the local size) in groups of {@code lx x ly}. */
    public static WorkerGrid grid2d(long gx, long gy, int lx, int ly) {
        long x = roundUp(Math.max(gx, 1), lx), y = roundUp(Math.max(gy, 1), ly);
        WorkerGrid2D g = new WorkerGrid2D(Math.toIntExact(x), Math.toIntExact(y));
        g.setGlobalWork(x, y, 1);
        g.setLocalWork(lx, ly, 1);
        return g;
    }

    static long roundUp(long n, long m) { return (n + m - 1) / m * m; }

    /** Snapshot of the graph for an execution plan. */
    public ImmutableTaskGraph snapshot() { return graph.snapshot(); }

    /** A plan of just this graph, with its grids. The caller closes it. */
    public TornadoExecutionPlan plan() {
        TornadoExecutionPlan p = new TornadoExecutionPlan(snapshot());
        p.withGridScheduler(grids);
        return p;
    }
}
