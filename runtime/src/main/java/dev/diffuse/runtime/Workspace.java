package dev.diffuse.runtime;

import java.util.ArrayList;
import java.util.List;

/**
 * The memory of one pipeline (a sampler run, a training loop): every tensor it needs is allocated here, counted
 * against an explicit byte budget, and freed together by {@link #close()}. Pipelines allocate at set-up, so a
 * step allocates nothing. Every allocation also counts against the device-wide {@link MemoryBudget}, so a process
 * refuses what would not fit in memory instead of being killed for it.
 */
public final class Workspace implements AutoCloseable {
    /** Sub-buffer origins must be aligned on OpenCL devices (NVIDIA asks 512 bytes, PoCL 128); 4 KiB covers all we know. */
    public static final int SLAB_ALIGN_BYTES = 4096;

    private final Device device;
    private final String name;
    private final long budgetBytes;
    private final List<Storage> storages = new ArrayList<>();
    private long usedBytes;
    private boolean closed;

    /**
     * @param name        what the memory is for, named in errors (e.g. "ddim sampler")
     * @param budgetBytes the most this workspace may allocate, e.g. {@code 512L << 20}
     */
    public Workspace(Device device, String name, long budgetBytes) {
        if (budgetBytes <= 0) throw new IllegalArgumentException("workspace '" + name + "': budget must be positive, got " + budgetBytes);
        this.device = device;
        this.name = name;
        this.budgetBytes = budgetBytes;
    }

    public Device device() { return device; }

    public long usedBytes() { return usedBytes; }

    public long budgetBytes() { return budgetBytes; }

    /** A zero-filled tensor of {@code shape}, freed when the workspace closes. */
    public synchronized Tensor tensor(int... shape) {
        long bytes = Tensor.numel(shape) * 4;
        return new Tensor(reserve(bytes), 0, shape, false);
    }

    /** A tensor with the same shape as {@code like}. */
    public Tensor like(Tensor like) { return tensor(like.shape()); }

    /**
     * One buffer holding several tensors back to back, each starting on a {@link #SLAB_ALIGN_BYTES} boundary, so
     * that the whole slab can be touched by one kernel (AdamW, zeroing, checkpoint IO) and each part used alone.
     * Returns the whole slab (1-D, padding included) followed by one view per shape.
     */
    public synchronized Tensor[] slab(int[]... shapes) {
        long[] offsets = new long[shapes.length];
        long elems = 0;
        int alignElems = SLAB_ALIGN_BYTES / 4;
        for (int i = 0; i < shapes.length; i++) {
            offsets[i] = elems;
            elems += (Tensor.numel(shapes[i]) + alignElems - 1) / alignElems * alignElems;
        }
        Tensor whole = new Tensor(reserve(elems * 4), 0, new int[]{Math.toIntExact(elems)}, false);
        Tensor[] out = new Tensor[shapes.length + 1];
        out[0] = whole;
        for (int i = 0; i < shapes.length; i++) out[i + 1] = whole.view(offsets[i], shapes[i]);
        return out;
    }

    private Storage reserve(long bytes) {
        if (closed) throw new IllegalStateException("workspace '" + name + "' is closed");
        if (usedBytes + bytes > budgetBytes)
            throw new WorkspaceBudgetException(String.format(
                    "workspace '%s' on %s: budget of %s exceeded (asked for %s with %s in use). Raise the budget or "
                            + "lower the batch size / resolution.", name, device.id(), mib(budgetBytes), mib(bytes), mib(usedBytes)));
        MemoryBudget.reserve(device, name, bytes);
        Storage s;
        try {
            s = device.allocate(bytes);
        } catch (RuntimeException | OutOfMemoryError e) {
            MemoryBudget.release(device, bytes);
            throw e;
        }
        storages.add(s);
        usedBytes += bytes;
        return s;
    }

    private static String mib(long b) { return String.format("%.1f MiB", b / 1048576.0); }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        storages.forEach(Storage::close);
        storages.clear();
        MemoryBudget.release(device, usedBytes);
    }
}
